#!/bin/bash
# e2e.sh [options] [KERNEL...] — the real-kernel end-to-end tier (issue 5), host side.
#
# Builds the project's Debian package with tools/build-deb (once, for every kernel), builds
# vfio-check, then boots the test guest (run-guest.sh: QEMU TCG, q35 + emulated VT-d,
# two e1000e NICs, four NVMe drives, one behind a PCIe root port) once per kernel (default:
# Debian's 6.1 and 6.12) and runs guest-e2e.sh in it: the package installed with dpkg -i (into
# the guest's throw-away overlay, never this machine's dpkg database), the daemon on the guest's real
# system bus, with polkitd, systemd-udevd and the shipped example polkit rule, driven by an
# unprivileged member of the group `vfio` and refused to an outsider; then the in-use
# protection (guest-host-use.sh) against the drives, the root port and the guest's own 9p root;
# at the end the package is purged and no file of it may be left (guest-package.sh).
#
# Options:
#   -b, --builddir DIR  where everything goes (default: REPO/build-vm): the .deb to DIR/e2e/deb,
#                       the work dirs to DIR/e2e/KERNEL, the TAP file to DIR/vm-e2e.tap
#   -o, --tap FILE      write the combined TAP here instead
#       --deb FILE      install this vfio-passthrough_*.deb instead of building one
#   -v, --verbose       stream the guest consoles
#
# Output: one TAP stream per kernel, each test prefixed with the kernel; the combined
# file has one plan for all.  Exit status 0 only if every kernel ran and passed.  On a
# failure the guest's serial log, the bus + daemon log (dbus-daemon.log: the activated
# daemon's stderr) and polkitd's log are printed.
#
# Kernels come from fetch-kernel.sh's cache (~/.cache/vfio-passthrough/kernels, or
# VFIO_VM_KERNEL_CACHE); the first run downloads them with apt-get download.
# Environment: E2E_PRIV_USER=root (debugging only: root runs the privileged verbs; see
# guest-e2e.sh),
# VFIO_VM_TIMEOUT (per guest, default 600 s).
#
# SAFETY: nothing here writes to this machine's /sys or loads modules; the guest does.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

builddir=$repo/build-vm
tap=""
deb=""
verbose=()
kernels=()
while [[ $# -gt 0 ]]; do
    case $1 in
        -b|--builddir) builddir=$2; shift 2 ;;
        -o|--tap) tap=$2; shift 2 ;;
        --deb) deb=$(realpath "$2"); shift 2 ;;
        -v|--verbose) verbose=(--verbose); shift ;;
        -h|--help) sed -n '2,/^set -euo/{/^#/s/^# \{0,1\}//p}' "${BASH_SOURCE[0]}"; exit 0 ;;
        -*) echo "e2e.sh: unknown option $1" >&2; exit 2 ;;
        *) kernels+=("$1"); shift ;;
    esac
done
[[ ${#kernels[@]} -gt 0 ]] || kernels=(6.1 6.12)
mkdir -p "$builddir"
builddir=$(cd "$builddir" && pwd -P)
[[ -n $tap ]] || tap=$builddir/vm-e2e.tap
log() { echo "e2e: $*" >&2; }
t_all=$(date +%s)

# ---------------------------------------------------------------- package
# The package a user installs; each guest installs it with dpkg -i.
mkdir -p "$builddir/e2e"
[[ -n $deb ]] || deb=$("$repo/tools/build-deb" "$builddir/e2e/deb")
gcc -O2 -Wall -Wextra -Werror -o "$builddir/e2e/vfio-check" "$here/vfio-check.c"
log "package $deb ($(dpkg-deb -c "$deb" | grep -vc '/$') files); built vfio-check"

# Fetch the kernels and the guest's storage tools first, so download time does not count against
# a guest's timeout.
kdirs=()
for k in "${kernels[@]}"; do
    kdirs+=("$("$here/fetch-kernel.sh" "$k")")
done
tools=$("$here/fetch-tools.sh")

# ---------------------------------------------------------------- run
combined=$(mktemp)
trap 'rm -f "$combined"' EXIT
rc=0
summary=()
# run_guest LABEL WORK RUN-GUEST-ARGS... -- SCRIPT ARGS...: one guest run, its TAP prefixed with
# LABEL into the combined file; sets rc=1 on failure.
run_guest() {
    local label=$1 work=$2 start secs grc attempt
    shift 2
    log "$label: booting the guest"
    start=$(date +%s.%N)
    for attempt in 1 2; do
        set +e
        VFIO_VM_TIMEOUT=${VFIO_VM_TIMEOUT:-600} "$here/run-guest.sh" "${verbose[@]}" --workdir "$work" "$@"
        grc=$?
        set -e
        # Multi-threaded TCG occasionally panics the guest kernel while it boots (seen once:
        # int3 Oops in sched_clock_cpu, a static-key patch race).  A guest that died before
        # the test script started is booted once more; anything later counts.
        if [[ $grc -eq 125 && ! -e $work/guest.tap && $attempt -eq 1 ]]; then
            log "$label: the guest died before the test started; booting it again"
            cp "$work/.vm/serial.log" "$work/serial-attempt1.log" 2>/dev/null || true
            continue
        fi
        break
    done
    secs=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }')
    rm -f "$work"/nvme-*.img
    # Prefix each result with the label; a guest that died early still counts as a failure.
    if [[ -s $work/guest.tap ]]; then
        sed -n -E "s/^(ok|not ok) [0-9]+ - /\1 - $label: /p; s/^#/#/p" "$work/guest.tap" >> "$combined"
    fi
    if [[ $grc -eq 0 ]] && ! grep -q '^not ok' "$work/guest.tap" 2>/dev/null && grep -q '^1\.\.' "$work/guest.tap"; then
        summary+=("$label: PASS in ${secs} s")
        [[ ${#verbose[@]} -gt 0 ]] || sed -n '/^VM-TIMING root-ready/,$p' "$work/.vm/serial.log"
    else
        rc=1
        # A run that did not finish its TAP (timeout, crash) is a failure of its own.
        grep -q '^1\.\.' "$work/guest.tap" 2>/dev/null ||
            echo "not ok - $label: guest run ended early with status $grc (124 timeout, 125 guest died)" >> "$combined"
        summary+=("$label: FAIL (status $grc) in ${secs} s")
        # run-guest.sh printed the serial console already (unless --verbose streamed it).
        for f in dbus-daemon.log polkitd.log udevd.log journal.txt; do
            [[ -s $work/$f ]] || continue
            case $f in
                dbus-daemon.log) what="the system bus and the daemon's stderr" ;;
                journal.txt) what="the guest's journal" ;;
                *) what=${f%.log} ;;
            esac
            echo "----- $label: $f ($what)"
            cat "$work/$f"
        done
        echo "----- $label: end of logs; work dir $work"
    fi
}

for i in "${!kernels[@]}"; do
    k=${kernels[$i]} kdir=${kdirs[$i]}
    kver=$(cat "$kdir/kver")
    work=$builddir/e2e/$kver
    rm -rf "$work"
    mkdir -p "$work"
    # The in-use tests' drives (guest-host-use.sh): sparse images in the work dir, one behind a
    # PCIe root port, so the port itself can be the named device.
    storage=(--qemu-arg -device --qemu-arg pcie-root-port,id=rp1,bus=pcie.0,chassis=1,addr=07.0)
    for d in swap btrfs luks md; do
        truncate -s 256M "$work/nvme-$d.img"
        storage+=(--qemu-arg -drive --qemu-arg "file=$work/nvme-$d.img,if=none,id=nvme-$d,format=raw")
        if [[ $d == swap ]]; then bus=bus=rp1; else bus=bus=pcie.0; fi
        storage+=(--qemu-arg -device --qemu-arg "nvme,serial=vfpt-$d,drive=nvme-$d,$bus")
    done
    run_guest "$kver" "$work" --kernel "$kdir" "${storage[@]}" \
        "$here/guest-e2e.sh" "$deb" "$builddir/e2e/vfio-check" "$tools" ${E2E_PRIV_USER:+"$E2E_PRIV_USER"}

    # The same kernel with systemd as PID 1: the installed unit, logind sessions, the prompt.
    work=$builddir/e2e/$kver-systemd
    rm -rf "$work"
    mkdir -p "$work"
    run_guest "$kver systemd" "$work" --kernel "$kdir" --systemd --shared-group \
        "$here/guest-systemd.sh" "$deb" "$builddir/e2e/vfio-check"
done

# One plan for the combined file, numbered in order.
mkdir -p "$(dirname "$tap")"
awk '/^(ok|not ok) - / { n++; sub(/ - /, " " n " - "); print; next } { print } END { print "1.." n }' \
    "$combined" > "$tap"
for s in "${summary[@]}"; do log "$s"; done
log "$(grep -c '^ok' "$tap") ok, $(grep -c '^not ok' "$tap") not ok; TAP in $tap; total $(($(date +%s) - t_all)) s"
exit "$rc"
