#!/bin/bash
# shellcheck disable=SC2054  # commas inside QEMU option values are no separators
# run-guest.sh — boot a Debian kernel in QEMU (TCG, q35 + emulated VT-d, two
# e1000e NICs) on top of a read-only view of this machine's root filesystem,
# run one script as root inside the guest and power off.
#
#   run-guest.sh [options] SCRIPT [ARGS...]     run SCRIPT in the guest
#   run-guest.sh [options] --shell [SCRIPT ARGS...]
#                          interactive root shell on stdio (serial console),
#                          after running SCRIPT if one is given
#
# Options:
#   -k, --kernel SPEC   kernel: 6.1 (default), 6.12, an exact release such as
#                       6.1.0-56-amd64, or a directory made by fetch-kernel.sh
#   -w, --workdir DIR   host directory shared read-write with the guest, at the
#                       same path (default: a fresh temporary directory, removed
#                       afterwards unless --keep).  Anything else the guest
#                       writes lands in a tmpfs overlay and is lost.
#   -t, --timeout SECS  kill QEMU after SECS seconds (default 300; no limit
#                       with --shell unless given)
#   -v, --verbose       stream the serial console to stderr while running
#       --keep          keep the temporary workdir (and serial log)
#       --shell         give an interactive root shell (QEMU: Ctrl-A x quits)
#       --shared-group  also add a PCIe-to-PCI bridge (00:06.0) with two e1000
#                       NICs behind it (01:01.0, 01:02.0): one IOMMU group with
#                       three members, for whole-group and viability tests
#       --systemd       boot systemd as PID 1 (journald, udevd, logind, dbus as
#                       units; the host's /etc/fstab emptied in the overlay) and
#                       run SCRIPT as the unit vm-run.service once basic.target
#                       is reached; the guest powers off when it ends
#       --qemu-arg ARG  pass ARG to QEMU (repeatable), e.g. more devices:
#                       --qemu-arg -device --qemu-arg e1000e,addr=05.0,...
#
# Inside the guest the host root is mounted read-only over 9p with a tmpfs
# overlay on top (so the guest may write anywhere; nothing reaches the host
# except through the workdir), the guest kernel's modules are bind-mounted
# on /lib/modules/$(uname -r), and proc, sys, devtmpfs, devpts, /dev/shm and
# /run are fresh guest mounts (/tmp is the overlay's copy of the host's /tmp).
# The overlay becomes the real root (switch_root, not chroot).  SCRIPT and its
# ARGS are host paths/strings; SCRIPT runs as root with its working directory
# set to the workdir, stdin /dev/null, stdout/stderr on the serial console,
# and these variables:
#   VM_WORKDIR  the shared read-write directory
#   VM_KVER     the guest kernel release (uname -r)
#   VM_MODE     run or shell
# Environment: VFIO_VM_KERNEL, VFIO_VM_TIMEOUT, VFIO_VM_MEM (MiB, default
# 1024), VFIO_VM_SMP (default 2), VFIO_VM_BUSYBOX (a static busybox),
# VFIO_VM_ACCEL=kvm (use KVM where /dev/kvm exists; default tcg).
#
# Exit status: the script's exit status, 124 if the guest timed out, 125 if the
# guest died without reporting a status (then the serial log is printed).
# The guest also prints "VM-EXIT-STATUS=N" on its console and writes N to
# $VM_WORKDIR/.vm/exit-status.
#
# SAFETY: nothing here touches this machine's /sys or kernel modules; every
# bind/unbind/modprobe happens inside the guest.  The host root is exported
# with readonly=on, so the guest cannot write to it through 9p either.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

usage() { sed -n '3,/^set -euo/{/^#/s/^# \{0,1\}//p}' "${BASH_SOURCE[0]}" >&2; exit 2; }

kernel=${VFIO_VM_KERNEL:-6.1}
workdir=""
timeout_s=${VFIO_VM_TIMEOUT:-}
verbose=0
keep=0
shell=0
systemd=0
extra_qemu=()
mem=${VFIO_VM_MEM:-1024}
smp=${VFIO_VM_SMP:-2}

while [[ $# -gt 0 ]]; do
    case $1 in
        -k|--kernel) kernel=$2; shift 2 ;;
        -w|--workdir) workdir=$2; shift 2 ;;
        -t|--timeout) timeout_s=$2; shift 2 ;;
        -v|--verbose) verbose=1; shift ;;
        --keep) keep=1; shift ;;
        --shell) shell=1; shift ;;
        --systemd) systemd=1; shift ;;
        --qemu-arg) extra_qemu+=("$2"); shift 2 ;;
        --shared-group)
            # Conventional PCI devices behind a PCIe-to-PCI bridge all use
            # the bridge's requester ID, so the kernel puts them and the
            # bridge into one IOMMU group.  (Two functions of one
            # multifunction e1000e on pcie.0 get separate groups.)
            # (The guest's shpchp logs "Slot initialization failed" for the
            # bridge; harmless, and QEMU 7.2's pcie-pci-bridge has no shpc=off.)
            extra_qemu+=(
                -device pcie-pci-bridge,id=pcibr,bus=pcie.0,addr=06.0
                -netdev user,id=net3,restrict=on
                -device e1000,bus=pcibr,addr=01.0,netdev=net3,mac=52:54:00:00:00:03
                -netdev user,id=net4,restrict=on
                -device e1000,bus=pcibr,addr=02.0,netdev=net4,mac=52:54:00:00:00:04
            )
            shift ;;
        -h|--help) usage ;;
        --) shift; break ;;
        -*) echo "run-guest: unknown option $1" >&2; usage ;;
        *) break ;;
    esac
done
if [[ $shell -eq 0 && $# -lt 1 ]]; then usage; fi
if [[ -z $timeout_s ]]; then
    # timeout(1) treats 0 as "no limit".
    if [[ $shell -eq 1 ]]; then timeout_s=0; else timeout_s=300; fi
fi

log() { echo "run-guest: $*" >&2; }

# ---------------------------------------------------------------- kernel
if [[ -d $kernel && -f $kernel/.complete ]]; then
    kdir=$(cd "$kernel" && pwd)
else
    kdir=$("$here/fetch-kernel.sh" "$kernel")
fi
kver=$(cat "$kdir/kver")
moddir=$kdir/lib/modules/$kver
vmlinuz=$kdir/boot/vmlinuz-$kver

# ---------------------------------------------------------------- workdir
tmpwork=0
if [[ -z $workdir ]]; then
    workdir=$(mktemp -d "${TMPDIR:-/tmp}/vfio-vm.XXXXXX")
    tmpwork=1
fi
mkdir -p "$workdir"
workdir=$(cd "$workdir" && pwd -P)
# The path travels on the kernel command line, which is split on spaces.
if [[ ! $workdir =~ ^/[A-Za-z0-9._/+-]+$ || ! $kdir =~ ^/[A-Za-z0-9._/+-]+$ ]]; then
    log "workdir and kernel dir paths must not contain spaces or odd characters"
    exit 2
fi
vmdir=$workdir/.vm
rm -rf "$vmdir"
mkdir -p "$vmdir"
serial_log=$vmdir/serial.log
: > "$serial_log"

build=$(mktemp -d "${TMPDIR:-/tmp}/vfio-vm-initramfs.XXXXXX")
tail_pid=""
# shellcheck disable=SC2317  # called from the EXIT trap
cleanup() {
    [[ -z $tail_pid ]] || kill "$tail_pid" 2>/dev/null || true
    rm -rf "$build"
    if [[ $tmpwork -eq 1 && $keep -eq 0 ]]; then
        rm -rf "$workdir"
    elif [[ $tmpwork -eq 1 ]]; then
        log "kept workdir $workdir"
    fi
}
trap cleanup EXIT

# ---------------------------------------------------------------- initramfs
# Modules /init needs before it can reach the host root.  Built-in ones (e.g.
# virtio_pci on 6.12) are skipped.  Dependencies come from modules.dep, whose
# dependency lists are already transitive and ordered so that loading them
# last-to-first works (that is what kmod does).
initmods=(virtio_pci 9pnet_virtio 9p overlay e1000e)

# Print the module paths (relative to $moddir) to insmod for $@, in load order.
resolve_modules() {
    awk -v want="$*" '
        function norm(s) { gsub(/-/, "_", s); return s }
        function base(p,  n) { n = p; sub(/.*\//, "", n); sub(/\.ko(\.[a-z]+)?$/, "", n); return norm(n) }
        FILENAME ~ /modules\.builtin$/ { builtin[base($1)] = 1; next }
        {
            mod = $1; sub(/:$/, "", mod)
            path[base(mod)] = mod
            deps[base(mod)] = ""
            for (i = NF; i >= 2; i--) deps[base(mod)] = deps[base(mod)] " " $i
        }
        function emit(p) { if (!(p in done)) { done[p] = 1; print p } }
        END {
            n = split(want, w, " ")
            for (i = 1; i <= n; i++) {
                m = norm(w[i])
                if (m in builtin) continue
                if (!(m in path)) { print "MISSING " m; continue }
                k = split(deps[m], d, " ")
                for (j = 1; j <= k; j++) emit(d[j])
                emit(path[m])
            }
        }' "$moddir/modules.builtin" "$moddir/modules.dep"
}

# The initramfs has no libc: busybox must be the static build.
busybox=${VFIO_VM_BUSYBOX:-/bin/busybox}
if ldd "$busybox" >/dev/null 2>&1; then
    log "$busybox is dynamically linked; install busybox-static"
    exit 1
fi
mkdir -p "$build"/{bin,dev,proc,sys,lower,rw,newroot,modules}
cp "$busybox" "$build/bin/busybox"
i=0
while read -r mod; do
    if [[ $mod == MISSING* ]]; then log "kernel $kver has no module ${mod#MISSING }"; exit 1; fi
    name=$(printf '%02d-%s' "$i" "$(basename "${mod%.xz}")")
    case $mod in
        # Debian's 6.12 ships xz-compressed modules; busybox insmod wants plain ELF.
        *.xz) xz -dc "$moddir/$mod" > "$build/modules/$name" ;;
        *) cp "$moddir/$mod" "$build/modules/$name" ;;
    esac
    i=$((i + 1))
done < <(resolve_modules "${initmods[@]}")

cat > "$build/init" <<'INIT'
#!/bin/busybox sh
# PID 1 of the test guest.  Kept in busybox sh: the host's shell and libraries
# only become available after the 9p mount.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
hostname vfio-guest
uptime_s() { cut -d' ' -f1 /proc/uptime; }
echo "VM-TIMING init-start=$(uptime_s)"

die() {
    echo "VM-INIT-ERROR: $*"
    echo "VM-EXIT-STATUS=125"
    poweroff -f
}
for arg in $(cat /proc/cmdline); do
    case $arg in
        vm.work=*) work=${arg#vm.work=} ;;
        vm.kdir=*) kdir=${arg#vm.kdir=} ;;
        vm.kver=*) kver=${arg#vm.kver=} ;;
        vm.mode=*) mode=${arg#vm.mode=} ;;
        vm.rows=*) rows=${arg#vm.rows=} ;;
        vm.cols=*) cols=${arg#vm.cols=} ;;
        vm.term=*) TERM=${arg#vm.term=} ;;
        vm.init=*) init=${arg#vm.init=} ;;
    esac
done

for m in /modules/*.ko; do
    insmod "$m" || die "insmod $m failed"
done

# Host root, read-only; cache=loose is safe since the host does not change it
# while the guest runs, and it makes the (slow, emulated) guest much faster.
mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=262144 hostroot /lower ||
    die "cannot mount host root over 9p"
mount -t tmpfs -o mode=0755 tmpfs /rw
mkdir -p /rw/upper /rw/work
mount -t overlay overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work /newroot ||
    die "cannot mount overlay"
r=/newroot
mount -t proc proc $r/proc
mount -t sysfs sysfs $r/sys
mount -t devtmpfs devtmpfs $r/dev
mkdir -p $r/dev/pts $r/dev/shm
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts $r/dev/pts
mount -t tmpfs -o mode=1777 tmpfs $r/dev/shm
# The links every booted system has in /dev (systemd and udev make them); bash's process
# substitution, which the shell completion uses, needs /dev/fd.
ln -sf /proc/self/fd $r/dev/fd
ln -sf /proc/self/fd/0 $r/dev/stdin
ln -sf /proc/self/fd/1 $r/dev/stdout
ln -sf /proc/self/fd/2 $r/dev/stderr
# A fresh /run (the host's holds its live sockets and pid files).  /tmp stays
# the overlay's copy of the host's /tmp, so scripts in a host mktemp dir work.
mount -t tmpfs -o mode=0755 tmpfs $r/run
# Keep the host root in the guest's mount table, as a VM whose root is 9p or virtio-fs has it:
# left in the initramfs it would be hidden from every mount table after switch_root.
mkdir -p $r/run/vm/hostroot
mount -o move /lower $r/run/vm/hostroot || die "cannot move the host root into the new root"
# The host's own kernel modules (if any) are irrelevant: give the guest the
# guest kernel's tree, unpacked by fetch-kernel.sh on the host.
mkdir -p $r/lib/modules/$kver
mount -o bind $r$kdir/lib/modules/$kver $r/lib/modules/$kver
mkdir -p $r$work
mount -t 9p -o trans=virtio,version=9p2000.L,cache=none,msize=262144 work $r$work ||
    die "cannot mount work dir"
echo "VM-TIMING root-ready=$(uptime_s)"

if [ "$init" = systemd ]; then
    # systemd as PID 1 on the overlay: what the host's fstab names does not exist here, and the
    # command runs as a unit that reports its status and powers the guest off.
    : > $r/etc/fstab
    echo vfio-guest > $r/etc/hostname
    # The host may be a container: its marker would make systemd skip udevd and friends.
    rm -f $r/.dockerenv $r/run/.containerenv
    # The serial line is the command's: no login prompt on it.
    ln -sf /dev/null $r/etc/systemd/system/serial-getty@ttyS0.service
    # systemd-tmpfiles empties /tmp at boot (tmp.conf: "D /tmp"); the overlay's /tmp holds the
    # host's, where the checkout and its work dirs may live.
    mkdir -p $r/etc/tmpfiles.d
    ln -sf /dev/null $r/etc/tmpfiles.d/tmp.conf
    cat > $r/etc/systemd/system/vm-test.target <<UNIT
[Unit]
Description=run-guest test run
Requires=basic.target vm-run.service
After=basic.target vm-run.service
AllowIsolate=yes
UNIT
    cat > $r/etc/systemd/system/vm-run.service <<UNIT
[Unit]
Description=run-guest command
After=basic.target
[Service]
Type=oneshot
Environment=HOME=/root TERM=linux VM_WORKDIR=$work VM_KVER=$kver VM_MODE=run VM_INIT=systemd
Environment=PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
WorkingDirectory=$work
StandardInput=null
StandardOutput=tty
StandardError=inherit
TTYPath=/dev/ttyS0
TTYReset=no
TTYVHangup=no
TimeoutStartSec=infinity
ExecStart=/bin/bash $work/.vm/cmd
ExecStopPost=/bin/sh /run/vm/finish
UNIT
    mkdir -p $r/run/vm
    cat > $r/run/vm/finish <<'FINISH'
echo "${EXIT_STATUS:-125}" > "$VM_WORKDIR/.vm/exit-status"
sync
echo "VM-TIMING done=$(cut -d' ' -f1 /proc/uptime)" > /dev/ttyS0
echo "VM-EXIT-STATUS=${EXIT_STATUS:-125}" > /dev/ttyS0
systemctl poweroff --force --force
FINISH
    echo "VM-TIMING root-ready-systemd=$(uptime_s)"
    exec switch_root $r /lib/systemd/systemd
    die "switch_root to systemd failed"
fi

# Make the overlay the real root with switch_root rather than chroot: systemd
# tools (udevadm trigger/settle, systemctl, ...) detect a chroot by comparing
# /proc/1/root with / and then silently ignore requests.  PID 1 stays a
# busybox sh (copied to the new root's /run) running /stage2.
mkdir -p $r/run/vm
cp /bin/busybox /stage2 $r/run/vm/
export HOME=/root TERM=${TERM:-linux} VM_WORKDIR=$work VM_KVER=$kver VM_MODE=$mode
export VM_ROWS=$rows VM_COLS=$cols
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
exec switch_root $r /run/vm/busybox sh /run/vm/stage2
die "switch_root failed"
INIT
cat > "$build/stage2" <<'STAGE2'
# PID 1 after switch_root: run the command (or a shell), report, power off.
bb=/run/vm/busybox
cd "$VM_WORKDIR" || exit 1
if [ "$VM_MODE" = shell ]; then
    [ -z "$VM_ROWS" ] || $bb stty -F /dev/ttyS0 rows "$VM_ROWS" cols "$VM_COLS"
    echo "Guest kernel $VM_KVER; the host root is read-only under a tmpfs overlay;"
    echo "$VM_WORKDIR is shared read-write.  Leave with 'exit' (or Ctrl-A x)."
    # setsid -c: make the serial line the controlling tty, so job control
    # and Ctrl-C work in the shell.
    rc=0
    if [ -f "$VM_WORKDIR/.vm/cmd" ]; then
        /bin/bash "$VM_WORKDIR/.vm/cmd" </dev/null
        rc=$?
        [ $rc -eq 0 ] || echo "setup script failed with status $rc"
    fi
    $bb setsid -c /bin/bash -l </dev/ttyS0 >/dev/ttyS0 2>&1
    shrc=$?
    [ $rc -ne 0 ] || rc=$shrc
else
    /bin/bash "$VM_WORKDIR/.vm/cmd" </dev/null
    rc=$?
fi
echo "$rc" > "$VM_WORKDIR/.vm/exit-status"
$bb sync
echo "VM-TIMING done=$($bb cut -d' ' -f1 /proc/uptime)"
echo "VM-EXIT-STATUS=$rc"
$bb poweroff -f
STAGE2
chmod 0755 "$build/init"
(cd "$build" && find . -print0 | cpio --null -o -H newc --quiet) > "$vmdir/initramfs.cpio"

# ---------------------------------------------------------------- command
if [[ $# -gt 0 ]]; then
    script=$(realpath "$1")
    shift
    [[ -f $script && -x $script ]] || { log "not an executable file: $script"; exit 2; }
    {
        echo '#!/bin/bash'
        echo '# generated by run-guest.sh'
        printf 'exec %q' "$script"
        printf ' %q' "$@"
        echo
    } > "$vmdir/cmd"
fi

# ---------------------------------------------------------------- qemu
append=(
    console=ttyS0
    # VT-d on, with interrupt remapping (QEMU intremap=on): VFIO type1 refuses
    # VFIO_SET_IOMMU with EPERM on a platform without interrupt remapping.
    intel_iommu=on iommu=pt
    panic=-1 mitigations=off
    rdinit=/init
    "vm.work=$workdir" "vm.kdir=$kdir" "vm.kver=$kver"
)
# systemd as PID 1 of a VM takes its options from the kernel command line, not from argv.
[[ $systemd -eq 0 ]] || append+=(vm.init=systemd systemd.unit=vm-test.target systemd.show_status=error)
if [[ $shell -eq 1 ]]; then
    # loglevel=1: keep kernel messages (dmesg shows them) off the prompt.
    append+=(vm.mode=shell loglevel=1)
    if [[ -t 0 ]] && size=$(stty size 2>/dev/null); then
        append+=("vm.rows=${size% *}" "vm.cols=${size#* }")
    fi
    if [[ ${TERM:-} =~ ^[A-Za-z0-9._-]+$ ]]; then append+=("vm.term=$TERM"); fi
else
    append+=(vm.mode=run quiet)
fi

if [[ ${VFIO_VM_ACCEL:-tcg} == kvm ]]; then
    # Opt-in, untested on the development machines (they have no /dev/kvm).
    # With KVM, intremap=on needs the split irqchip (QEMU refuses otherwise).
    machine=(-machine q35,kernel-irqchip=split -accel kvm -cpu host)
else
    # TCG; thread=multi lets both vCPUs run in parallel.  Under TCG
    # intremap=on works without any kernel-irqchip setting.
    machine=(-machine q35 -accel tcg,thread=multi)
fi
qemu=(
    qemu-system-x86_64
    -nodefaults -no-user-config -display none -no-reboot
    "${machine[@]}" -m "$mem" -smp "$smp"
    # Must come before the PCI devices it translates for.
    -device intel-iommu,intremap=on
    -kernel "$vmlinuz" -initrd "$vmdir/initramfs.cpio" -append "${append[*]}"
    -fsdev "local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap"
    -device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot
    -fsdev "local,id=work,path=$workdir,security_model=none,multidevs=remap"
    -device virtio-9p-pci,fsdev=work,mount_tag=work
    # Two identical NICs, the devices the tests move to vfio-pci.  User-mode
    # networking with restrict=on: no traffic leaves the guest, and QEMU does
    # not warn about NICs without a peer.
    -netdev user,id=net1,restrict=on -device e1000e,netdev=net1,mac=52:54:00:00:00:01
    -netdev user,id=net2,restrict=on -device e1000e,netdev=net2,mac=52:54:00:00:00:02
    "${extra_qemu[@]}"
)

start=$(date +%s.%N)
if [[ $shell -eq 1 ]]; then
    # mux=on: Ctrl-A c reaches the QEMU monitor, Ctrl-A x quits.
    qemu+=(-chardev "stdio,id=ser0,mux=on,signal=off,logfile=$serial_log" -serial chardev:ser0 -mon chardev=ser0)
    set +e
    timeout --foreground -k 10 "$timeout_s" "${qemu[@]}"
    qrc=$?
    set -e
else
    qemu+=(-chardev "file,id=ser0,path=$serial_log" -serial chardev:ser0)
    if [[ $verbose -eq 1 ]]; then
        tail -n +1 -F "$serial_log" >&2 2>/dev/null &
        tail_pid=$!
    fi
    # timeout(1) puts QEMU in its own process group, so a Ctrl-C or a
    # harness's SIGTERM would not reach it: forward those explicitly.
    set +e
    timeout -k 10 "$timeout_s" "${qemu[@]}" </dev/null &
    qemu_pid=$!
    interrupted=0
    trap 'interrupted=1; kill -TERM "$qemu_pid" 2>/dev/null' INT TERM
    wait "$qemu_pid"
    qrc=$?
    while kill -0 "$qemu_pid" 2>/dev/null; do
        wait "$qemu_pid"
        qrc=$?
    done
    trap - INT TERM
    set -e
    if [[ $interrupted -eq 1 ]]; then
        log "interrupted; guest killed"
        exit 130
    fi
fi
end=$(date +%s.%N)

rc=125
if [[ -s $vmdir/exit-status ]]; then
    rc=$(cat "$vmdir/exit-status")
elif grep -q '^VM-EXIT-STATUS=' "$serial_log"; then
    rc=$(grep '^VM-EXIT-STATUS=' "$serial_log" | tail -n1 | tr -dc '0-9')
fi
if [[ $qrc -eq 124 || $qrc -eq 137 ]]; then
    log "guest timed out after ${timeout_s}s"
    rc=124
fi
boot=$(sed -n 's/^VM-TIMING init-start=\([0-9.]*\).*/\1/p' "$serial_log" | tail -n1)
ready=$(sed -n 's/^VM-TIMING root-ready=\([0-9.]*\).*/\1/p' "$serial_log" | tail -n1)
log "kernel $kver: init at ${boot:-?}s, root ready at ${ready:-?}s (guest uptime), total $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')s wall, status $rc"
if [[ $shell -eq 0 && $rc -ne 0 && $verbose -eq 0 ]]; then
    log "serial console ($serial_log):"
    cat "$serial_log" >&2
fi
exit "$rc"
