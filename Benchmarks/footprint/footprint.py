"""Orchestrates `Benchmarks/run-footprint` (benchmark tooling, standard library only; see that
script for the modes). Starts a private mosquitto, the simulators and the bridges as separate
processes on free loopback ports, samples /proc/PID/status (VmRSS, RssAnon, RssFile) and
/proc/PID/stat (utime + stime) of the measured processes, stops everything it started by PID
and prints the figures.
"""

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

TICKS = os.sysconf("SC_CLK_TCK")

# The simulators' own cadences (SimulatorCatalog, what `api2mqtt demo` runs). `simulate`
# defaults every type to 10 s, so the five-source run passes these explicitly.
DEFAULT_INTERVALS = {"cozify_han": 10, "ocpp_csms": 5, "flowerhub": 60, "tinybms": 1, "fritz_network": 5}
URL_VARIABLES = {"cozify_han": "HAN_URL", "ocpp_csms": "CSMS_URL", "flowerhub": "FLOWERHUB_URL",
                 "tinybms": "TINYBMS_URL", "fritz_network": "FRITZ_URL"}

# Targets of issue 17.
TARGET_HAN_RSS_RATIO, TARGET_HAN_CPU_RATIO = 0.6, 0.2
TARGET_FIVE_RSS_MB, TARGET_FIVE_CPU_PERCENT = 25.0, 0.05
TARGET_BINARY_MB = 30.0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, seconds=10):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


class CPUAccount:
    """CPU time of one process, every thread it ever had included, in nanoseconds, from a cgroup
    v1 `cpuacct` group of its own when this user may create one (this machine: root, cgroup v1);
    None otherwise, and the samples fall back to /proc/PID/stat, whose utime + stime count in
    clock ticks (10 ms: a quiet daemon's minute is a handful of them)."""

    def __init__(self, pid):
        self.path = f"/sys/fs/cgroup/cpuacct/api2mqtt-footprint-{pid}"
        try:
            os.mkdir(self.path)
            with open(f"{self.path}/cgroup.procs", "w") as f:
                f.write(str(pid))
        except OSError:
            self.remove()
            self.path = None

    def nanoseconds(self):
        if self.path is None:
            return None
        with open(f"{self.path}/cpuacct.usage") as f:
            return int(f.read())

    def remove(self):
        """After the process exited (an empty group can go)."""
        if self.path:
            try:
                os.rmdir(self.path)
            except OSError:
                pass


class Sample:
    """One reading of a process: kB of RSS, anonymous and file-backed RSS; CPU (nanoseconds from
    its cgroup, else clock ticks)."""

    def __init__(self, pid, account=None):
        with open(f"/proc/{pid}/status") as f:
            fields = dict(line.split(":", 1) for line in f if ":" in line)
        kb = lambda name: int(fields[name].split()[0])
        self.rss, self.anon, self.file = kb("VmRSS"), kb("RssAnon"), kb("RssFile")
        self.threads = int(fields["Threads"])
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read().rsplit(")", 1)[1].split()
        self.ticks = int(stat[11]) + int(stat[12])  # utime, stime (fields 14, 15)
        self.nanoseconds = account.nanoseconds() if account else None
        self.time = time.monotonic()

    def cpu_seconds(self):
        return self.nanoseconds / 1e9 if self.nanoseconds is not None else self.ticks / TICKS


class Measured:
    """A process under measurement and its samples."""

    def __init__(self, name, process):
        self.name, self.process, self.samples = name, process, []
        self.account = CPUAccount(process.pid)

    def sample(self):
        if self.process.poll() is not None:
            raise RuntimeError(f"{self.name} exited early ({self.process.returncode})")
        self.samples.append(Sample(self.process.pid, self.account))

    def figures(self):
        first, last = self.samples[0], self.samples[-1]
        elapsed = last.time - first.time
        cpu = last.cpu_seconds() - first.cpu_seconds()
        return {
            "rss_start": first.rss, "rss_end": last.rss, "rss_max": max(s.rss for s in self.samples),
            "anon_start": first.anon, "anon_end": last.anon, "anon_max": max(s.anon for s in self.samples),
            "file_end": last.file, "threads": last.threads,
            "cpu": cpu, "cpu_percent": 100 * cpu / elapsed, "cpu_before": first.cpu_seconds(), "elapsed": elapsed,
        }


class Stack:
    """Everything one run starts, stopped in reverse order by PID."""

    def __init__(self, scratch):
        self.scratch, self.stoppers = scratch, []

    def broker(self):
        port = free_port()
        conf = os.path.join(self.scratch, f"mosquitto-{port}.conf")
        with open(conf, "w") as f:
            f.write(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
                    f"user {os.environ.get('USER') or subprocess.getoutput('id -un')}\n")
        process = subprocess.Popen(["mosquitto", "-c", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.stoppers.append(lambda: self.terminate(process))
        wait_for_port(port)
        return port

    def simulator(self, binary, source_type, interval):
        """`api2mqtt-simulators simulate TYPE` in its own process; it runs while its standard input is open."""
        process = subprocess.Popen(
            [binary, "simulate", source_type, "--port", "0", "--interval", str(interval)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.stoppers.append(lambda: self.quit_simulator(process))
        line = process.stdout.readline().split()
        if len(line) != 2 or line[0] != "listening":
            raise RuntimeError(f"simulate {source_type}: {line}")
        return int(line[1])

    def start(self, name, argv, env=None, log=None):
        out = open(os.path.join(self.scratch, log or f"{name}.log"), "w")
        process = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        measured = Measured(name, process)

        def stop():
            self.terminate(process)
            measured.account.remove()
        self.stoppers.append(stop)
        return measured

    @staticmethod
    def quit_simulator(process):
        try:
            process.stdin.write("quit\n")
            process.stdin.close()
            process.wait(5)
        except (OSError, subprocess.TimeoutExpired):
            Stack.terminate(process)

    @staticmethod
    def terminate(process):
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def stop(self):
        for stop in reversed(self.stoppers):
            stop()
        self.stoppers = []

    def close(self):
        """Stops everything, then removes the scratch directory (kept with KEEP_LOGS=1, and said where)."""
        self.stop()
        if os.environ.get("KEEP_LOGS"):
            print(f"logs kept in {self.scratch}", file=sys.stderr)
        else:
            shutil.rmtree(self.scratch, ignore_errors=True)


def counter(stack, port, topics):
    """A mosquitto_sub counting what the bridges publish during the window."""
    argv = ["mosquitto_sub", "-h", "127.0.0.1", "-p", str(port), "-v", "-R"]  # -R: skip retained
    for topic in topics:
        argv += ["-t", topic]
    path = os.path.join(stack.scratch, f"counted-{len(stack.stoppers)}.txt")
    out = open(path, "w")
    process = subprocess.Popen(argv, stdout=out, stderr=subprocess.DEVNULL)
    stack.stoppers.append(lambda: Stack.terminate(process))

    def count(prefix):
        with open(path, errors="replace") as f:
            return sum(1 for line in f if line.startswith(prefix))
    return count


def retained(port, topic):
    try:
        out = subprocess.run(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(port), "-t", topic, "-C", "1", "-W", "5"],
                             capture_output=True, text=True, timeout=10).stdout
        return json.loads(out)
    except (subprocess.TimeoutExpired, ValueError):
        return None


def measure(processes, seconds, step):
    """Samples every process every `step` s for `seconds` (the first sample starts the window)."""
    for process in processes:
        process.sample()
        how = "its own cgroup (ns)" if process.samples[0].nanoseconds is not None else "/proc/PID/stat (10 ms ticks)"
        print(f"  {process.name}: CPU from {how}", flush=True)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        time.sleep(min(step, max(0.0, end - time.monotonic())))
        for process in processes:
            process.sample()


def mb(kb):
    return f"{kb / 1024:.1f}"


def bridge_config(path, mqtt_port, http_port, sources, base="api2mqtt", client_id="api2mqtt-footprint"):
    lines = [f"mqtt:\n  url: mqtt://127.0.0.1:{mqtt_port}\n  client_id: {client_id}\n  base_topic: {base}",
             f"http:\n  listen: 127.0.0.1:{http_port}", "log:\n  level: info\n  format: text", "sources:"]
    for source in sources:
        lines.append("  - " + "\n    ".join(f"{k}: {v}" for k, v in source.items()))
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def config_with_only(path, source_type, scratch):
    """A copy of the configuration at `path` keeping only the source of `source_type` (its entry
    in the `sources:` list, which ends the file, as in Config/demo.yaml)."""
    with open(path) as f:
        head, _, listed = f.read().partition("\nsources:\n")
    entries = []
    for line in listed.splitlines():
        if line.startswith("  - "):
            entries.append([line])
        elif entries and not line.startswith("  #"):
            entries[-1].append(line)
    kept = [lines for lines in entries if f"    type: {source_type}" in lines or f"  - type: {source_type}" in lines]
    if len(kept) != 1:
        raise RuntimeError(f"{path}: expected one {source_type} source, found {len(kept)}")
    copy = os.path.join(scratch, f"only-{source_type}.yaml")
    with open(copy, "w") as f:
        f.write(head + "\nsources:\n" + "\n".join(kept[0]) + "\n")
    return copy


def five_once(args, stack, binary, name, only=None):
    """One five-source run of `binary` on a fresh broker and simulators (or, with `only`, that
    source type alone against its simulator); its figures and what it published."""
    intervals = {only: DEFAULT_INTERVALS[only]} if only else DEFAULT_INTERVALS
    config = config_with_only(args.config, only, stack.scratch) if only else os.path.abspath(args.config)
    mqtt_port, http_port = stack.broker(), free_port()
    env = dict(os.environ, MQTT_URL=f"mqtt://127.0.0.1:{mqtt_port}", HTTP_PORT=str(http_port))
    for source_type, interval in intervals.items():
        port = stack.simulator(args.simulators, source_type, interval)
        env[URL_VARIABLES[source_type]] = f"http://127.0.0.1:{port}"
    bridge = stack.start(name, [binary, "run", "--config", config], env=env)
    time.sleep(args.warmup)
    count = counter(stack, mqtt_port, ["api2mqtt/#"])
    print(f"{name} ({binary}): simulators {', '.join(f'{t} every {i} s' for t, i in intervals.items())}; "
          f"{args.warmup} s warm-up, then {args.seconds} s sampled every {args.step} s; load average {loadavg()}",
          flush=True)
    measure([bridge], args.seconds, args.step)
    sources = retained(mqtt_port, "api2mqtt/bridge/sources") or {}
    published = count("api2mqtt/")
    stack.stop()
    return bridge.figures(), sources, published


def five_row(label, f):
    return (f"| {label} | {mb(f['rss_start'])} MB | {mb(f['rss_end'])} MB | {mb(f['rss_max'])} MB | "
            f"{mb(f['anon_start'])} MB | {mb(f['anon_end'])} MB | {mb(f['anon_max'])} MB | {mb(f['file_end'])} MB | "
            f"{f['threads']} | {f['cpu']:.3f} | {f['cpu_percent']:.3f} % |")


FIVE_HEADER = ("| api2mqtt run, five sources | RSS start | RSS end | RSS max | anon start | anon end | anon max | file end | threads | CPU s | % of a core |\n"
               "|---|---|---|---|---|---|---|---|---|---|---|")


def run_five(args, stack):
    """The five sources of Config/demo.yaml against five `simulate` processes at their own cadences.
    With --compare-bin, each round runs both binaries one after the other (the order alternating
    from round to round), each on its own fresh broker and simulators."""
    binaries = [("api2mqtt", args.bin)] + ([("compared", args.compare_bin)] if args.compare_bin else [])
    results = {name: [] for name, _ in binaries}
    for round_number in range(1, args.rounds + 1):
        order = binaries if round_number % 2 else list(reversed(binaries))
        for name, binary in order:
            f, sources, published = five_once(args, stack, binary, name)
            results[name].append(f)
            statuses = ", ".join(f"{n} {source.get('status')}" for n, source in sorted(sources.items()))
            print(f"  round {round_number}/{args.rounds} {name}: load average at the end {loadavg()}; sources: {statuses}; "
                  f"messages under api2mqtt/# in the window (not retained): {published}")
            print(f"  {name}: RSS max {mb(f['rss_max'])} MB, anon max {mb(f['anon_max'])} MB, file {mb(f['file_end'])} MB, "
                  f"CPU {f['cpu']:.3f} s ({f['cpu_percent']:.3f} % of a core)", flush=True)

    def median(name, key):
        return statistics.median(r[key] for r in results[name])

    print()
    label = f"median of {args.rounds} rounds" if args.rounds > 1 else "one round"
    print(f"five sources, {args.seconds} s ({label}); CPU in the window, after start-up and warm-up")
    print(FIVE_HEADER)
    for name, binary in binaries:
        medians = {key: median(name, key) for key in results[name][0]}
        medians["threads"] = int(medians["threads"])
        print(five_row(f"{name} ({binary})", medians))
    print(f"(CPU before the window, start-up and warm-up: {median('api2mqtt', 'cpu_before'):.2f} s)")
    if args.compare_bin:
        print()
        for key, what in (("rss_max", "RSS max"), ("anon_max", "anonymous RSS max"), ("file_end", "file-backed RSS"), ("cpu", "CPU")):
            base = median("api2mqtt", key)
            print(f"{what}: compared / api2mqtt = {median('compared', key) / base:.2f}x" if base else f"{what}: -")
    print()
    rss = median("api2mqtt", "rss_max") / 1024
    print(f"target RSS <= {TARGET_FIVE_RSS_MB:.0f} MB: max {rss:.1f} MB = {rss / TARGET_FIVE_RSS_MB:.2f}x the target "
          f"({'met' if rss <= TARGET_FIVE_RSS_MB else 'not met'})")
    cpu = median("api2mqtt", "cpu_percent")
    print(f"target CPU <= {TARGET_FIVE_CPU_PERCENT} % of a core: {cpu:.3f} % = {cpu / TARGET_FIVE_CPU_PERCENT:.1f}x the target "
          f"({'met' if cpu <= TARGET_FIVE_CPU_PERCENT else 'not met'})")
    for _, binary in binaries:
        binary_target(binary)


def run_each(args, stack):
    """Each source of the configuration alone against its simulator, one after the other: where
    the five-source CPU goes. Each run has its own broker, simulator and bridge process, so every
    row also carries what one bridge costs with nothing to do (MQTT keepalive, timers)."""
    rows = []
    for source_type in DEFAULT_INTERVALS:
        f, sources, published = five_once(args, stack, args.bin, source_type, only=source_type)
        statuses = ", ".join(f"{n} {source.get('status')}" for n, source in sorted(sources.items()))
        print(f"  {source_type}: sources: {statuses}; messages under api2mqtt/# in the window (not retained): {published}", flush=True)
        rows.append((source_type, f, published))
    print()
    print(f"each source alone, {args.seconds} s; CPU in the window, after start-up and warm-up")
    print("| source (simulator cadence) | messages | RSS max | anon max | CPU s | % of a core | CPU per message |")
    print("|---|---|---|---|---|---|---|")
    for source_type, f, published in rows:
        per = f"{f['cpu'] * 1000 / published:.1f} ms" if published else "-"
        print(f"| {source_type} (every {DEFAULT_INTERVALS[source_type]} s) | {published} | {mb(f['rss_max'])} MB | "
              f"{mb(f['anon_max'])} MB | {f['cpu']:.3f} | {f['cpu_percent']:.4f} % | {per} |")
    print(f"sum of the five: {sum(f['cpu_percent'] for _, f, _ in rows):.4f} % of a core "
          f"(target for all five in one process: <= {TARGET_FIVE_CPU_PERCENT} %)")


def run_han(args, stack):
    """One HAN simulator (a telegram every `interval` s over SSE), api2mqtt and the Python bridge
    both subscribed to its /sse at the same time, on the same broker, measured over the same window.
    With --compare-bin a second api2mqtt (its own client id, base topic and HTTP port) runs on the
    same stream in the same window: old and new binary side by side under the same load; the
    order in which they start alternates from round to round. Without --python, no Python bridge."""
    bridges = [("api2mqtt", args.bin)] + ([("compared", args.compare_bin)] if args.compare_bin else [])
    names = [name for name, _ in bridges] + (["python"] if args.python else [])
    results = []
    for round_number in range(1, args.rounds + 1):
        mqtt_port = stack.broker()
        han_port = stack.simulator(args.simulators, "cozify_han", args.interval)
        measured = {}
        order = bridges if round_number % 2 else list(reversed(bridges))
        for name, binary in order:
            config = os.path.join(stack.scratch, f"han-{name}.yaml")
            base = "api2mqtt" if name == "api2mqtt" else name
            bridge_config(config, mqtt_port, free_port(), [
                {"id": "han", "type": "cozify_han", "name": "HAN", "url": f"http://127.0.0.1:{han_port}", "stream": "sse"}],
                base=base, client_id=f"api2mqtt-footprint-{name}")
            measured[name] = stack.start(name, [binary, "run", "--config", config], log=f"{name}-{round_number}.log")
        if args.python:
            measured["python"] = stack.start("python", [args.python, os.path.join(os.path.dirname(__file__), "han_bridge.py"),
                                                        "--url", f"http://127.0.0.1:{han_port}", "--mqtt-port", str(mqtt_port)],
                                             log=f"python-{round_number}.log")
        time.sleep(args.warmup)
        count = counter(stack, mqtt_port, ["api2mqtt/han", "compared/han", "pybridge/han"])
        print(f"round {round_number}/{args.rounds}: a telegram every {args.interval} s over SSE, {', '.join(names)} on it at once; "
              f"{args.warmup} s warm-up, then {args.seconds} s sampled every {args.step} s; load average {loadavg()}",
              flush=True)
        measure([measured[name] for name in names], args.seconds, args.step)
        time.sleep(0.5)
        states = {name: count(f"{'pybridge' if name == 'python' else name}/han ") for name in names}
        results.append({name: measured[name].figures() for name in names})
        print(f"  load average at the end {loadavg()}; states published in the window: "
              + ", ".join(f"{name} {states[name]}" for name in names))
        for name in names:
            f = results[-1][name]
            print(f"  {name}: RSS max {mb(f['rss_max'])} MB, anon max {mb(f['anon_max'])} MB, file {mb(f['file_end'])} MB, "
                  f"CPU {f['cpu']:.3f} s ({f['cpu_percent']:.3f} % of a core)", flush=True)
        stack.stop()

    def median(name, key):
        return statistics.median(r[name][key] for r in results)

    print()
    label = f"median of {args.rounds} rounds" if args.rounds > 1 else "one round"
    print(f"HAN workload, {args.seconds} s ({label}); CPU in the window, after start-up and warm-up")
    print("| | RSS start | RSS end | RSS max | anon end | anon max | file end | threads | CPU s | % of a core | CPU before the window |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    labels = {"api2mqtt": f"api2mqtt ({args.bin})", "compared": f"compared ({args.compare_bin})", "python": "Python asyncio bridge"}
    for name in names:
        print(f"| {labels[name]} | {mb(median(name, 'rss_start'))} MB | {mb(median(name, 'rss_end'))} MB | "
              f"{mb(median(name, 'rss_max'))} MB | {mb(median(name, 'anon_end'))} MB | {mb(median(name, 'anon_max'))} MB | "
              f"{mb(median(name, 'file_end'))} MB | {int(median(name, 'threads'))} | {median(name, 'cpu'):.3f} | "
              f"{median(name, 'cpu_percent'):.3f} % | {median(name, 'cpu_before'):.2f} s |")
    print()
    if args.compare_bin:
        for key, what in (("rss_max", "RSS max"), ("anon_max", "anonymous RSS max"), ("file_end", "file-backed RSS"), ("cpu", "CPU")):
            base = median("api2mqtt", key)
            print(f"{what}: compared / api2mqtt = {median('compared', key) / base:.2f}x" if base else f"{what}: -")
    if args.python:
        for name in [name for name, _ in bridges]:
            rss_ratio = median(name, "rss_max") / median("python", "rss_max")
            anon_ratio = median(name, "anon_max") / median("python", "anon_max")
            cpu_ratio = median(name, "cpu") / median("python", "cpu") if median("python", "cpu") > 0 else float("inf")
            print(f"{name}: RSS (max) / Python = {rss_ratio:.2f}x, target <= {TARGET_HAN_RSS_RATIO}x "
                  f"({'met' if rss_ratio <= TARGET_HAN_RSS_RATIO else 'not met'})")
            print(f"{name}: anonymous RSS (max) / Python = {anon_ratio:.2f}x (no target)")
            print(f"{name}: CPU / Python = {cpu_ratio:.2f}x, target <= {TARGET_HAN_CPU_RATIO}x "
                  f"({'met' if cpu_ratio <= TARGET_HAN_CPU_RATIO else 'not met'})")
    for _, binary in bridges:
        binary_target(binary)


def binary_target(path):
    size = os.path.getsize(path) / 1e6
    print(f"binary {path}: {size:.1f} MB, target <= {TARGET_BINARY_MB:.0f} MB stripped = {size / TARGET_BINARY_MB:.2f}x "
          f"({'met' if size <= TARGET_BINARY_MB else 'not met'})")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["five", "each", "han"])
    parser.add_argument("--bin", required=True)
    parser.add_argument("--simulators", required=True, help="the api2mqtt-simulators executable")
    parser.add_argument("--seconds", type=int, required=True)
    parser.add_argument("--step", type=float, default=10)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--config", default="Config/demo.yaml")
    parser.add_argument("--python", help="the venv's python for the baseline (han)")
    parser.add_argument("--interval", type=int, default=2, help="HAN telegram interval (han)")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--compare-bin", help="a second api2mqtt to measure side by side with --bin (e.g. an older build)")
    args = parser.parse_args()
    scratch = tempfile.mkdtemp(prefix="api2mqtt-footprint-")
    stack = Stack(scratch)
    try:
        {"five": run_five, "each": run_each, "han": run_han}[args.mode](args, stack)
    finally:
        stack.close()


if __name__ == "__main__":
    main()
