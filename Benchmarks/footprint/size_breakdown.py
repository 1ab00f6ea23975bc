"""What the release binary is made of (benchmark tooling, standard library only).

Usage: python3 Benchmarks/footprint/size_breakdown.py [UNSTRIPPED_BINARY]
(default: the unstripped binary scripts/release links, .build/release-size/x86_64-unknown-linux-gnu/release/api2mqtt)

Prints the sections that stay after `strip` (`size -A`) and the sized symbols of `nm -S`
grouped by the module their mangled name names ($s<length><Module>) or, for C and C++, by a
prefix. Generic specialisations of standard-library types are named after the standard
library whichever module emitted them, so "Swift stdlib" is an upper bound for the library
itself; code without a sized symbol (and section padding) is not attributed.
"""

import collections
import re
import subprocess
import sys

GROUPS = [
    ("ICU (data icudt*, code *_76)", lambda m: m in ("ICU data", "ICU code")),
    ("Foundation, CoreFoundation, FoundationInternationalization (what pulls in ICU)",
     lambda m: m in ("Foundation", "CoreFoundation", "FoundationInternationalization", "FoundationNetworking")),
    ("FoundationEssentials, _FoundationCollections", lambda m: m in ("FoundationEssentials", "_FoundationCollections")),
    ("BoringSSL + NIOSSL (the second TLS stack; libmosquitto's OpenSSL is a shared library)",
     lambda m: m in ("BoringSSL", "NIOSSL")),
    ("Simulators + Hummingbird (the device simulators' server)",
     lambda m: m == "Simulators" or m.startswith("Hummingbird")),
    ("SwiftNIO (all NIO* modules)", lambda m: m.startswith(("NIO", "_NIO"))),
    ("AsyncHTTPClient, WebSocket client (WSClient, WSCore, WSCompression)",
     lambda m: m == "AsyncHTTPClient" or m.startswith("WS")),
    ("Swift stdlib (incl. specialisations), runtime, regex", lambda m: m in ("Swift stdlib", "Swift runtime / C++", "_RegexParser", "_StringProcessing")),
    ("our modules (BridgeCore, Adapters, SourceKit, Mosquitto, api2mqtt)",
     lambda m: m in ("BridgeCore", "Adapters", "SourceKit", "Mosquitto", "api2mqtt")),
    ("swift-algorithms, swift-async-algorithms, swift-collections",
     lambda m: m in ("Algorithms", "AsyncAlgorithms", "OrderedCollections", "DequeModule", "HeapModule",
                     "BitCollections", "HashTreeCollections", "_RopeModule", "InternalCollectionsUtilities")),
]


def module_of(name):
    if name.startswith(("$s", "_$s")):
        match = re.match(r"_?\$s(\d+)([A-Za-z_][A-Za-z0-9_]*)", name)
        return match.group(2)[: int(match.group(1))] if match else "Swift stdlib"
    if "CNIOBoringSSL" in name or name.startswith("_ZN4bssl"):
        return "BoringSSL"
    if name.startswith("icudt"):
        return "ICU data"
    if re.search(r"_76(E|$)|icu_76", name):
        return "ICU code"
    if re.match(r"_{0,2}CF|_ZL\d*_?_?CF", name):
        return "CoreFoundation"
    if name.startswith(("_dispatch", "dispatch_", "_os_")):
        return "libdispatch"
    if name.startswith(("swift_", "_swift", "_ZN5swift", "_ZL", "_ZN")):
        return "Swift runtime / C++"
    return "C, other"


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else ".build/release-size/x86_64-unknown-linux-gnu/release/api2mqtt"
    sections = []
    for line in subprocess.run(["readelf", "-SW", binary], capture_output=True, text=True, check=True).stdout.splitlines():
        match = re.match(r"\s*\[\s*\d+\]\s+(\S+)\s+(\S+)\s+([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)\s+\S+\s+(\S*)", line)
        # Allocated (flag A) and not NOBITS (.bss takes no file space): what strip keeps.
        if match and "A" in match.group(5) and match.group(2) != "NOBITS":
            sections.append((int(match.group(4), 16), match.group(1)))
    print(f"{binary}: sections kept by strip (MB)")
    print(", ".join(f"{name} {size / 1e6:.2f}" for size, name in sorted(sections, reverse=True)[:14]))
    print(f"total {sum(size for size, _ in sections) / 1e6:.1f} MB")

    modules = collections.Counter()
    nm = subprocess.run(["nm", "-S", "--size-sort", binary], capture_output=True, text=True, check=True).stdout
    for line in nm.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[2] not in "bBuUwWvV":  # .bss takes no file space
            modules[module_of(parts[3])] += int(parts[1], 16)
    total = sum(modules.values())
    print(f"\nsized symbols: {total / 1e6:.1f} MB, grouped")
    grouped = set()
    for label, member in GROUPS:
        names = [m for m in modules if member(m)]
        grouped.update(names)
        print(f"{sum(modules[m] for m in names) / 1e6:7.2f} MB  {label}")
    rest = collections.Counter({m: v for m, v in modules.items() if m not in grouped})
    print(f"{sum(rest.values()) / 1e6:7.2f} MB  the rest: " + ", ".join(f"{m} {v / 1e6:.2f}" for m, v in rest.most_common(10)))
    print("\nlargest modules:")
    print(", ".join(f"{m} {v / 1e6:.2f}" for m, v in modules.most_common(25)))


if __name__ == "__main__":
    main()
