"""Writes the link order of the production binary (`scripts/api2mqtt.order`, which `scripts/release`
hands to lld as `--symbol-ordering-file`): the functions a running bridge executes, hottest first,
so that the linker puts them next to each other at the start of `.text`.

Why: the kernel maps a file page into a process together with up to 15 neighbours already in the
page cache (fault-around, 64 kB), so a few hundred functions scattered over 20 MB of code made
about 14 MB of the binary resident. Packed together they fill a few MB.

How: the five sources of Config/demo.yaml against their simulators (each `api2mqtt-simulators
simulate TYPE` in its own process, like `run-footprint five`), the bridge under valgrind's
callgrind for SECONDS, a /health and a /metrics request, then SIGTERM; every function of the
binary callgrind saw run, by instructions executed. Functions that a workload does not reach
(a source type's error paths, `check`, `mappings`) keep their usual place; a stale order file
only costs locality, never correctness (lld skips names it does not find).

Usage: python3 Benchmarks/footprint/link_order.py --bin UNSTRIPPED --simulators SIM [--seconds 120] [--out FILE]
UNSTRIPPED: the unstripped binary scripts/release links (it prints where); valgrind 3.19 cannot
read its DWARF 5, so a copy without debug information (symbols kept) runs.
Benchmark tooling, standard library only; needs valgrind.
"""

import argparse
import collections
import glob
import re
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
import footprint as fp  # noqa: E402


def executed_functions(paths, binary):
    """Self cost (instructions) of each function of `binary` in callgrind outputs written with
    --compress-strings=no --compress-pos=no."""
    cost = collections.Counter()
    for path in paths:
        ob = fn = fn_ob = None
        after_calls = False
        with open(path, errors="replace") as f:
            for line in f:
                if line.startswith("ob="):
                    ob = line[3:].strip()
                elif line.startswith("fn="):
                    # callgrind marks recursion levels with 'N (swift_release'2): the same function
                    fn, fn_ob, after_calls = re.sub(r"'\d+$", "", line[3:].strip()), ob, False
                    if fn_ob == binary:
                        cost[fn] += 0
                elif line.startswith("calls="):
                    after_calls = True  # the next cost line is the call's inclusive cost
                elif line[:1].isdigit() or line[:1] in "+-*":
                    if after_calls:
                        after_calls = False
                    elif fn_ob == binary and fn:
                        parts = line.split()
                        if len(parts) >= 2:
                            cost[fn] += int(parts[1])
    return [name for name, _ in cost.most_common() if not name.startswith("0x")]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True, help="the unstripped api2mqtt scripts/release linked")
    parser.add_argument("--simulators", required=True, help="the api2mqtt-simulators executable")
    parser.add_argument("--seconds", type=int, default=120)
    parser.add_argument("--config", default="Config/demo.yaml")
    parser.add_argument("--out", default="scripts/api2mqtt.order")
    args = parser.parse_args()
    if not shutil.which("valgrind"):
        sys.exit("valgrind is needed (apt-get install valgrind)")
    scratch = tempfile.mkdtemp(prefix="api2mqtt-link-order-")
    binary = os.path.join(scratch, "api2mqtt")
    subprocess.run(["objcopy", "--strip-debug", args.bin, binary], check=True)
    stack = fp.Stack(scratch)
    try:
        mqtt_port, http_port = stack.broker(), fp.free_port()
        env = dict(os.environ, MQTT_URL=f"mqtt://127.0.0.1:{mqtt_port}", HTTP_PORT=str(http_port))
        for source_type, interval in fp.DEFAULT_INTERVALS.items():
            env[fp.URL_VARIABLES[source_type]] = f"http://127.0.0.1:{stack.simulator(args.simulators, source_type, interval)}"
        argv = ["valgrind", "--tool=callgrind", "--demangle=no", "--compress-strings=no", "--compress-pos=no",
                f"--callgrind-out-file={scratch}/callgrind.%p", binary, "run", "--config", os.path.abspath(args.config)]
        with open(os.path.join(scratch, "bridge.log"), "w") as log:
            bridge = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        print(f"five sources under callgrind for {args.seconds} s ...", flush=True)
        time.sleep(args.seconds)
        for path in ("/health", "/metrics"):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{http_port}{path}", timeout=60).read()
            except OSError as error:
                print(f"GET {path}: {error}", file=sys.stderr)
        time.sleep(5)
        bridge.send_signal(signal.SIGTERM)
        bridge.wait(300)
        if bridge.returncode != 0:
            sys.exit(f"the bridge exited {bridge.returncode}; log in {scratch}/bridge.log")
        names = executed_functions(glob.glob(f"{scratch}/callgrind.*"), binary)
        with open(args.out, "w") as f:
            f.write("".join(name + "\n" for name in names))
        print(f"{args.out}: {len(names)} functions")
    finally:
        stack.close()


if __name__ == "__main__":
    main()
