#!/bin/bash
# shellcheck disable=SC2012  # ls of sysfs/devtmpfs names is fine here
# guest-smoke.sh VFIO_CHECK — runs INSIDE the test guest (see smoke.sh).
#
# Shows that the guest is fit for the real-kernel tests: IOMMU groups, two
# e1000e NICs, system dbus-daemon + polkitd + udevd starting in the guest root,
# and a manual driver_override cycle of NIC #1 through vfio-pci and back
# (with vfio-check opening the device, also while it is being unbound),
# while NIC #2 stays on e1000e.  Prints "SMOKE: PASS" at the end.
set -euo pipefail

vfio_check=${1:?usage: guest-smoke.sh PATH-TO-vfio-check}

# Refuse to run anywhere but in the test guest: this script writes to sysfs.
if [[ -z ${VM_KVER:-} || $(uname -r) != "$VM_KVER" ]]; then
    echo "guest-smoke.sh: not inside the test guest, refusing to touch sysfs" >&2
    exit 1
fi

t0=$(date +%s.%N)
since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }'; }
section() { echo; echo "== $*"; }
fail() { echo "SMOKE: FAIL: $*"; exit 1; }
# wait_for SECONDS COMMAND...: poll until COMMAND succeeds.
wait_for() {
    local deadline=$(($(date +%s) + $1)); shift
    until "$@"; do
        [[ $(date +%s) -lt $deadline ]] || return 1
        sleep 0.1
    done
}
driver_of() {
    local l
    if l=$(readlink "/sys/bus/pci/devices/$1/driver"); then echo "${l##*/}"; else echo none; fi
}
group_of() { basename "$(readlink "/sys/bus/pci/devices/$1/iommu_group")"; }

section "kernel"
uname -r
echo "guest uptime at script start: $(cut -d' ' -f1 /proc/uptime) s"

section "iommu groups"
for g in /sys/kernel/iommu_groups/*; do
    echo "group ${g##*/}: $(ls "$g/devices" | tr '\n' ' ')"
done

section "e1000e NICs"
nics=()
for d in /sys/bus/pci/devices/*; do
    # 8086:10d3 is the 82574L that QEMU's e1000e emulates.
    [[ $(cat "$d/vendor"):$(cat "$d/device") == 0x8086:0x10d3 ]] || continue
    nics+=("${d##*/}")
done
[[ ${#nics[@]} -eq 2 ]] || fail "expected 2 e1000e NICs, found ${#nics[@]}"
nic1=${nics[0]} nic2=${nics[1]}
for n in "$nic1" "$nic2"; do
    echo "$n driver=$(driver_of "$n") group=$(group_of "$n") net=$(ls "/sys/bus/pci/devices/$n/net" 2>/dev/null | tr '\n' ' ')"
done
[[ $(group_of "$nic1") != "$(group_of "$nic2")" ]] || fail "NICs share an IOMMU group"
group=$(group_of "$nic1")

section "system services in the guest"
t=$(date +%s.%N)
mkdir -p /run/dbus
dbus-daemon --system --fork --print-pid > /run/dbus/pid.out
wait_for 30 test -S /run/dbus/system_bus_socket || fail "dbus-daemon did not come up"
echo "dbus-daemon --system up in $(since "$t") s"

has_owner() {
    dbus-send --system --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
        org.freedesktop.DBus.NameHasOwner "string:$1" 2>/dev/null | grep -q 'boolean true'
}
t=$(date +%s.%N)
/usr/lib/polkit-1/polkitd --no-debug > /run/polkitd.log 2>&1 &
wait_for 60 has_owner org.freedesktop.PolicyKit1 || { cat /run/polkitd.log; fail "polkitd did not take its name"; }
echo "polkitd owns org.freedesktop.PolicyKit1 after $(since "$t") s (runs as user $(ps -o user= -C polkitd))"
busctl --system introspect org.freedesktop.PolicyKit1 /org/freedesktop/PolicyKit1/Authority \
    org.freedesktop.PolicyKit1.Authority | grep -c method | sed 's/^/polkit Authority methods: /'

t=$(date +%s.%N)
/lib/systemd/systemd-udevd --daemon
echo "systemd-udevd --daemon returned after $(since "$t") s"
t=$(date +%s.%N)
udevadm trigger --type=subsystems --action=add
udevadm trigger --type=devices --action=add
echo "udevadm trigger returned after $(since "$t") s"
t=$(date +%s.%N)
udevadm settle --timeout=120 || fail "udevadm settle timed out"
echo "udevadm settle done after $(since "$t") s"
for n in "$nic1" "$nic2"; do
    echo "$n net=$(ls "/sys/bus/pci/devices/$n/net" | tr '\n' ' ')"
done

section "vfio-pci"
t=$(date +%s.%N)
modprobe vfio-pci
echo "modprobe vfio-pci took $(since "$t") s"
lsmod | awk '$1 ~ /vfio|irqbypass/ { print $1 }' | sort | tr '\n' ' '; echo
ls -l /dev/vfio/

section "bind $nic1 (group $group) to vfio-pci"
t=$(date +%s.%N)
echo vfio-pci > "/sys/bus/pci/devices/$nic1/driver_override"
echo "$nic1" > "/sys/bus/pci/devices/$nic1/driver/unbind"
echo "$nic1" > /sys/bus/pci/drivers_probe
[[ $(driver_of "$nic1") == vfio-pci ]] || fail "$nic1 is on $(driver_of "$nic1"), not vfio-pci"
echo "$nic1 driver=$(driver_of "$nic1") after $(since "$t") s"
wait_for 10 test -c "/dev/vfio/$group" || fail "/dev/vfio/$group did not appear"
udevadm settle
ls -l "/dev/vfio/$group"
[[ $(driver_of "$nic2") == e1000e ]] || fail "$nic2 left e1000e"
echo "$nic2 driver=$(driver_of "$nic2") (untouched)"

section "vfio-check"
"$vfio_check" "$group" "$nic1" || fail "vfio-check failed"

section "unbind while held (device request)"
# A holder that gives the device back when asked: the unbind completes.
"$vfio_check" --hold 60 --release-on-request "$group" "$nic1" > /run/hold.log 2>&1 &
holder=$!
wait_for 30 grep -q '^holding' /run/hold.log || { cat /run/hold.log; fail "holder did not start"; }
t=$(date +%s.%N)
echo > "/sys/bus/pci/devices/$nic1/driver_override"
echo "$nic1" > /sys/bus/pci/drivers/vfio-pci/unbind
echo "unbind with a cooperative holder took $(since "$t") s"
wait "$holder" || fail "holder failed"
cat /run/hold.log

section "restore $nic1 to e1000e"
t=$(date +%s.%N)
# driver_override was cleared above; the device is now driverless.
[[ $(driver_of "$nic1") == none ]] || fail "$nic1 still bound to $(driver_of "$nic1")"
echo "$nic1" > /sys/bus/pci/drivers_probe
[[ $(driver_of "$nic1") == e1000e ]] || fail "$nic1 came back on $(driver_of "$nic1")"
wait_for 10 test ! -e "/dev/vfio/$group" || fail "/dev/vfio/$group still there"
echo "$nic1 driver=$(driver_of "$nic1") after $(since "$t") s; /dev/vfio: $(ls /dev/vfio | tr '\n' ' ')"
[[ $(driver_of "$nic2") == e1000e ]] || fail "$nic2 left e1000e"
echo "$nic2 driver=$(driver_of "$nic2") (untouched)"

section "second cycle: unprivileged user, and an unbind that blocks"
t=$(date +%s.%N)
echo vfio-pci > "/sys/bus/pci/devices/$nic1/driver_override"
echo "$nic1" > "/sys/bus/pci/devices/$nic1/driver/unbind"
echo "$nic1" > /sys/bus/pci/drivers_probe
wait_for 10 test -c "/dev/vfio/$group" || fail "/dev/vfio/$group did not appear"
udevadm settle
# What Grant does: hand the group node to a user, who can then open it.
chown nobody "/dev/vfio/$group"
setpriv --reuid=nobody --regid=nogroup --clear-groups "$vfio_check" "$group" "$nic1" > /run/user.log ||
    { cat /run/user.log; fail "vfio-check as nobody failed"; }
echo "vfio-check as user nobody: $(grep -c '^ok' /run/user.log) steps ok"
chown root "/dev/vfio/$group"
# A holder without a request channel: vfio-pci's remove waits for it.
"$vfio_check" --hold 4 "$group" "$nic1" > /run/hold2.log 2>&1 &
holder=$!
wait_for 30 grep -q '^holding' /run/hold2.log || { cat /run/hold2.log; fail "holder did not start"; }
echo > "/sys/bus/pci/devices/$nic1/driver_override"
t2=$(date +%s.%N)
echo "$nic1" > /sys/bus/pci/drivers/vfio-pci/unbind
echo "unbind with a 4 s holder that ignores requests blocked for $(since "$t2") s"
wait "$holder" || fail "holder failed"
dmesg | grep -i 'vfio.*request\|blocked until released' | tail -n 3 || true
echo "$nic1" > /sys/bus/pci/drivers_probe
[[ $(driver_of "$nic1") == e1000e ]] || fail "$nic1 came back on $(driver_of "$nic1")"
echo "second cycle took $(since "$t") s"

echo
echo "smoke script took $(since "$t0") s; guest uptime $(cut -d' ' -f1 /proc/uptime) s"
echo "SMOKE: PASS"
