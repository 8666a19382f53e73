#!/usr/bin/python3
"""Prints guest-bench.sh's results (bench.tsv) as a table: medians, ratios to the baseline of
the same run, PASS/MISS against the targets. Usage: round-trip-table.py KERNEL BENCH_TSV"""
import sys

ROWS = [
    # (key, what, baseline key, target ratio or None)
    ("round-trip bare", "bare sysfs sequence (shell, no process)", None, None),
    ("round-trip ctl-root", "vfio-passthroughctl attach+restore, root", "round-trip bare", 1.5),
    ("round-trip ctl-user", "vfio-passthroughctl, vfio user via polkit", "round-trip bare", 2.0),
    ("round-trip driverctl", "driverctl --nosave set/unset-override", "round-trip bare", None),
    ("round-trip dpdk-devbind", "dpdk-devbind.py -b vfio-pci / -b e1000e", "round-trip bare", None),
    ("list lspci", "lspci -Dnnk", None, None),
    ("list ctl", "vfio-passthroughctl list", "list lspci", 0.5),
    ("list driverctl", "driverctl list-devices", "list lspci", None),
    ("list dpdk", "dpdk-devbind.py --status", "list lspci", None),
    ("list ctl-start", "vfio-passthroughctl --version (process start)", None, None),
    ("daemon activation-to-first-answer", "daemon: D-Bus activation to first answer", None, None),
    ("daemon rss-kib", "daemon RSS after the run (KiB)", None, None),
    ("daemon rss-anon-kib", "daemon private memory, RssAnon (KiB)", None, None),
]


def main():
    kernel, path = sys.argv[1], sys.argv[2]
    medians = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.startswith("BENCH "):
                continue
            key, median = line[len("BENCH "):].split("\t")[:2]
            medians[key] = float(median)
    print(f"\nround trip of one e1000e NIC on {kernel} (QEMU guest), medians")
    print(f"{'measured':<48} {'median':>10}  {'ratio':>7}  target")
    for key, what, base, target in ROWS:
        if key not in medians:
            print(f"{what:<48} {'(missing)':>10}")
            continue
        value = medians[key]
        unit = "KiB" if key.endswith("kib") else "ms"
        ratio = ""
        verdict = ""
        if base and medians.get(base):
            r = value / medians[base]
            ratio = f"{r:.2f}x"
            if target is not None:
                verdict = f"{'PASS' if r <= target else 'MISS'} <= {target}x"
        print(f"{what:<48} {value:>7.0f} {unit:<3} {ratio:>7}  {verdict}")


if __name__ == "__main__":
    main()
