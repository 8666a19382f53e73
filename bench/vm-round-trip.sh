#!/bin/bash
# bench/vm-round-trip.sh [-b BUILDDIR] [-r ROUNDS] [KERNEL...] — the round trip on the real kernel.
#
# Builds the project for release, installs it into a directory, and boots the tests/vm guest
# (QEMU, Debian's 6.1 and 6.12 kernels by default) with tests/vm/guest-bench.sh: one e1000e NIC
# moved to vfio-pci and back, in interleaved rounds, by the bare sysfs sequence (the baseline),
# driverctl, dpdk-devbind.py, and vfio-passthroughctl as root and as a `vfio` user through
# polkit; then the listing tools and the daemon's activation and memory. Prints a table of
# medians and ratios to the bare sequence, with PASS/MISS against the targets (never a failure).
# Needs root (QEMU with KVM if there is one; TCG otherwise, where only ratios mean anything).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
builddir=$repo/build-bench
rounds=5
kernels=()
while [[ $# -gt 0 ]]; do
    case $1 in
        -b|--builddir) builddir=$2; shift 2 ;;
        -r|--rounds) rounds=$2; shift 2 ;;
        -h|--help) sed -n '2,/^set -euo/{/^#/s/^# \{0,1\}//p}' "${BASH_SOURCE[0]}"; exit 0 ;;
        -*) echo "vm-round-trip.sh: unknown option $1" >&2; exit 2 ;;
        *) kernels+=("$1"); shift ;;
    esac
done
[[ ${#kernels[@]} -gt 0 ]] || kernels=(6.1 6.12)
mkdir -p "$builddir"
builddir=$(cd "$builddir" && pwd -P)
log() { echo "vm-round-trip: $*" >&2; }

meson_build=$builddir/meson
destdir=$builddir/root
if [[ -f $meson_build/build.ninja ]]; then
    meson setup --reconfigure "$meson_build" --prefix=/usr --buildtype=release -Dtests=false >/dev/null
else
    meson setup "$meson_build" "$repo" --prefix=/usr --buildtype=release -Dtests=false >/dev/null
fi
ninja -C "$meson_build" >/dev/null
rm -rf "$destdir"
meson install -C "$meson_build" --destdir "$destdir" --quiet --no-rebuild
tools=$("$repo/tests/vm/fetch-tools.sh")

status=0
for k in "${kernels[@]}"; do
    kdir=$("$repo/tests/vm/fetch-kernel.sh" "$k")
    kver=$(cat "$kdir/kver")
    work=$builddir/$kver
    rm -rf "$work"
    mkdir -p "$work"
    log "$kver: booting the guest ($rounds rounds)"
    if ! VFIO_VM_TIMEOUT=${VFIO_VM_TIMEOUT:-1200} "$repo/tests/vm/run-guest.sh" --kernel "$kdir" --workdir "$work" \
        "$repo/tests/vm/guest-bench.sh" "$destdir" "$tools" "$rounds" > "$work/console.txt" 2>&1 ||
        [[ ! -s $work/bench.tsv ]]; then
        log "$kver: the guest run failed; its console:"
        tail -40 "$work/console.txt" >&2
        status=1
        continue
    fi
    /usr/bin/python3 "$here/round-trip-table.py" "$kver" "$work/bench.tsv"
    echo "per-step timing from the daemon's debug log: $work/daemon.log"
done
exit $status
