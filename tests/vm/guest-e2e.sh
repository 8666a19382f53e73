#!/bin/bash
# shellcheck disable=SC2012  # ls of sysfs/devtmpfs names is fine here
# guest-e2e.sh DEB VFIO_CHECK TOOLS [PRIV_USER] — runs INSIDE the test guest, as root (see e2e.sh).
#
# The real-kernel end-to-end test of issue 5.  DEB is the project's Debian package, built on the
# host by tools/build-deb; the guest installs it with dpkg -i (into its throw-away tmpfs overlay:
# nothing reaches the host's dpkg database), so it runs exactly the packaged files, and at the
# end purges it and checks that no file is left (guest-package.sh, issue 16).  Then the
# system dbus-daemon, polkitd and systemd-udevd are started (no systemd as PID 1: the
# daemon is started by D-Bus activation through the activation file's Exec= line), the
# shipped example polkit rule is enabled, and the workflow runs as an unprivileged member
# of the group `vfio`, with an outsider as the control.
#
# Output: TAP on stdout (the serial console) and in $VM_WORKDIR/guest.tap; the
# description of each test starts with the number of the issue's assertion it proves,
# e.g. "[2]".  Logs in $VM_WORKDIR: dbus-daemon.log (the bus and, through activation,
# the daemon's stderr), polkitd.log, udevd.log.  Exit status 0 only if every test passed.
#
# PRIV_USER (default vfio-user, the unprivileged member of `vfio`) is who runs the
# privileged verbs; `root` is only for checking the flow without polkit (the outsider
# tests still expect refusals then).
set -uo pipefail

deb=${1:?usage: guest-e2e.sh DEB VFIO_CHECK TOOLS [PRIV_USER]}
vfio_check_src=${2:?usage: guest-e2e.sh DEB VFIO_CHECK TOOLS [PRIV_USER]}
tools=${3:?usage: guest-e2e.sh DEB VFIO_CHECK TOOLS [PRIV_USER]}

# Refuse to run anywhere but in the test guest: this script writes to sysfs and /.
if [[ -z ${VM_KVER:-} || $(uname -r) != "$VM_KVER" || $(hostname) != vfio-guest ]]; then
    echo "guest-e2e.sh: not inside the test guest, refusing to run" >&2
    exit 1
fi

work=${VM_WORKDIR:?}
tapfile=$work/guest.tap
: > "$tapfile"
t0=$(date +%s.%N)

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/vm/guest-lib.sh
. "$here/guest-lib.sh"
# shellcheck source=tests/vm/guest-package.sh
. "$here/guest-package.sh"

# The state of the two NICs and of /dev/vfio, for before/after comparisons.
snapshot() {
    local d
    for d in "$nic1" "$nic2"; do
        echo "$d driver=$(driver_of "$d") override=$(override_of "$d") iface=$(iface_of "$d")"
    done
    ls -ln /dev/vfio 2>/dev/null | awk 'NR > 1 { print "/dev/vfio", $1, $3, $4, $NF }'
    for n in /dev/vfio/[0-9]*; do [[ ! -e $n ]] || echo "$n acl: $(acl_users "$n")"; done
    [[ ! -d /dev/vfio/devices ]] || ls -ln /dev/vfio/devices | awk 'NR > 1 { print "/dev/vfio/devices", $1, $3, $4, $NF }'
}
# No record left (kernel-locks/ holds the daemon's lock files, which stay).
no_state() { [[ -z $(ls -A /run/vfio-passthroughd 2>/dev/null | grep -vx kernel-locks) ]]; }
nic2_untouched() { # NIC #2 on e1000e, no override, its interface up
    [[ $(driver_of "$nic2") == e1000e && -z $(override_of "$nic2") ]] && iface_up "$nic2"
}
node_released() { # the group node is gone, or root's with nobody's ACL entry
    [[ ! -e /dev/vfio/$group ]] || [[ $(owner_of "/dev/vfio/$group") == root && -z $(acl_users "/dev/vfio/$group") ]]
}

user=vfio-user
outsider=outsider
priv=${4:-$user}
# Grant to the vfio user explicitly only when root acts for it.
grant_args=()
[[ $priv == "$user" ]] || grant_args=("$user")

echo "== guest-e2e on $(uname -r), guest uptime $(cut -d' ' -f1 /proc/uptime) s"

# ------------------------------------------------------------------ 1. install
if ! package_install "$deb"; then
    echo "Bail out! dpkg -i $deb failed"
    exit 1
fi
install -m 0755 "$vfio_check_src" /usr/local/bin/vfio-check

svcfile=/usr/share/dbus-1/system-services/org.vfio.Passthrough1.service
exec_line=$(sed -n 's/^Exec=//p' "$svcfile" 2>/dev/null)
check "[1] the package put the daemon, client, bus policy, activation file and polkit policy where Debian looks" \
    test -x /usr/libexec/vfio-passthroughd -a -x /usr/bin/vfio-passthroughctl \
    -a -f /usr/share/dbus-1/system.d/org.vfio.Passthrough1.conf -a -f "$svcfile" \
    -a -f /usr/share/polkit-1/actions/org.vfio.passthrough.policy
check "[9] the activation file has an Exec= line for the installed daemon (next to SystemdService=)" \
    test "$exec_line" = /usr/libexec/vfio-passthroughd
# The shipped example rule, enabled the way its header says.
# (The overlay starts as a copy of the host's /etc, which may know these names already.)
getent group vfio > /dev/null || groupadd --system vfio
if getent passwd "$user" > /dev/null; then usermod -aG vfio "$user"; else useradd --create-home --groups vfio "$user"; fi
if getent passwd "$outsider" > /dev/null; then
    gpasswd -d "$outsider" vfio > /dev/null 2>&1 || true
else
    useradd --create-home "$outsider"
fi
install -m 0644 /usr/share/doc/vfio-passthrough/examples/50-vfio-passthrough-group.rules.example \
    /etc/polkit-1/rules.d/50-vfio-passthrough-group.rules
check "[1] users: $user is in group vfio, $outsider is not" \
    bash -c "id -nG $user | grep -qw vfio && ! id -nG $outsider | grep -qw vfio"

# ------------------------------------------------------------------ 2. services
pid1=$(cat /proc/1/comm)
check "[9] PID 1 is not systemd (it is '$pid1')" test "$pid1" != systemd
# The journal, for the daemon's structured entries: journald needs the cgroup hierarchy.
journald=""
if mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null || mountpoint -q /sys/fs/cgroup; then
    /lib/systemd/systemd-journald > "$work/journald.log" 2>&1 &
    journald=$!
    wait_for 10 test -S /run/systemd/journal/socket || journald=""
fi
mkdir -p /run/dbus
t=$(date +%s.%N)
# --nofork --nosyslog: the bus's messages, and the stderr of the services it activates
# (the daemon's log), go to this file.
dbus-daemon --system --nofork --nopidfile --nosyslog > "$work/dbus-daemon.log" 2>&1 &
dbus_pid=$!
wait_for 60 test -S /run/dbus/system_bus_socket
check "[1] dbus-daemon --system is up ($(since "$t") s)" has_owner org.freedesktop.DBus
t=$(date +%s.%N)
/usr/lib/polkit-1/polkitd --no-debug > "$work/polkitd.log" 2>&1 &
wait_for 60 has_owner org.freedesktop.PolicyKit1
check "[1] polkitd owns org.freedesktop.PolicyKit1 ($(since "$t") s)" has_owner org.freedesktop.PolicyKit1
t=$(date +%s.%N)
/lib/systemd/systemd-udevd --daemon > "$work/udevd.log" 2>&1
udevadm trigger --type=subsystems --action=add
udevadm trigger --type=devices --action=add
udevadm settle --timeout=120
check "[1] systemd-udevd runs and has settled ($(since "$t") s)" pgrep -x systemd-udevd

# ------------------------------------------------------------------ devices
nics=()
for d in /sys/bus/pci/devices/*; do
    # 8086:10d3 is the 82574L that QEMU's e1000e emulates.
    [[ $(cat "$d/vendor"):$(cat "$d/device") == 0x8086:0x10d3 ]] && nics+=("${d##*/}")
done
if [[ ${#nics[@]} -ne 2 ]]; then
    echo "Bail out! expected two e1000e NICs, found ${#nics[@]}"
    exit 1
fi
nic1=${nics[0]} nic2=${nics[1]}
group=$(group_of "$nic1")
group2=$(group_of "$nic2")
iface1=$(iface_of "$nic1")
iface2=$(iface_of "$nic2")
# NIC #2 is in use by the host: its interface is up.  NIC #1's stays down, so the
# daemon's in-use protection does not refuse to take it.
ip link set dev "$iface2" up
echo "NIC #1 $nic1 group $group iface $iface1; NIC #2 $nic2 group $group2 iface $iface2 (up)"
check "[2] the two identical NICs are on e1000e in different IOMMU groups" \
    test "$(driver_of "$nic1")" = e1000e -a "$(driver_of "$nic2")" = e1000e -a "$group" != "$group2"

# ------------------------------------------------------------------ [9] activation
check "[9] nobody owns org.vfio.Passthrough1 before the first call" no_owner org.vfio.Passthrough1
check "[2] vfio-pci is not loaded before attach (/sys/module/vfio_pci absent)" \
    test ! -e /sys/module/vfio_pci -a ! -e /sys/bus/pci/drivers/vfio-pci

# ------------------------------------------------------------------ [2] list
t=$(date +%s.%N)
g1=$(list_group "$user" "$nic1")
g2=$(list_group "$user" "$nic2")
echo "first list (with activation) took $(since "$t") s"
runuser -u "$user" -- vfio-passthroughctl list
check "[2] as $user, list shows NIC #1 with its real IOMMU group $group (listed: '$g1')" test "$g1" = "$group"
check "[2] as $user, list shows NIC #2 with its real IOMMU group $group2 (listed: '$g2')" test "$g2" = "$group2"
if json=$(runuser -u "$user" -- vfio-passthroughctl --json list) && python3 -c '
import json, sys
devs = json.loads(sys.argv[1])
devs = devs.get("devices", devs) if isinstance(devs, dict) else devs
want = {sys.argv[2]: sys.argv[3], sys.argv[4]: sys.argv[5]}
seen = {d["address"]: str(d.get("iommu_group")) for d in devs if d.get("address") in want}
sys.exit(0 if seen == want else "json list: %r, expected %r" % (seen, want))
' "$json" "$nic1" "$group" "$nic2" "$group2"; then
    pass "[2] list --json agrees (addresses and iommu_group)"
else
    flunk "[2] list --json agrees (addresses and iommu_group)" "$json"
fi

daemon_pid=$(name_pid org.vfio.Passthrough1)
daemon_exe=$(readlink "/proc/$daemon_pid/exe" 2>/dev/null)
daemon_uid=$(awk '/^Uid:/ { print $2 }' "/proc/$daemon_pid/status" 2>/dev/null)
echo "daemon pid $daemon_pid exe $daemon_exe uid $daemon_uid; dbus-daemon pid $dbus_pid"
# dbus-daemon-launch-helper sets DBUS_STARTER_BUS_TYPE for the services it execs.
started_by_bus() {
    tr '\0' '\n' < "/proc/$1/environ" | grep -qx DBUS_STARTER_BUS_TYPE=system
}
first_daemon_ok() {
    [[ -n $daemon_pid && $daemon_exe == /usr/libexec/vfio-passthroughd && $daemon_uid == 0 ]] &&
        started_by_bus "$daemon_pid" && [[ $(activated_count) == 1 ]]
}
activated_count() { grep -c "Successfully activated service 'org.vfio.Passthrough1'" "$work/dbus-daemon.log"; }
check "[1][9] the first call D-Bus-activated the installed daemon through Exec= (pid $daemon_pid runs $daemon_exe as uid $daemon_uid, DBUS_STARTER_BUS_TYPE=system, bus logged the activation)" \
    first_daemon_ok


# ------------------------------------------------------------------ [2] attach, grant, open
ctl "$priv" attach "$nic1"
check "[2] as $priv, attach $nic1 succeeds" test "$ctl_rc" -eq 0
check "[2] NIC #1 is on vfio-pci with driver_override vfio-pci (is: $(driver_of "$nic1"), '$(override_of "$nic1")')" \
    test "$(driver_of "$nic1")" = vfio-pci -a "$(override_of "$nic1")" = vfio-pci
check "[2] the daemon loaded vfio-pci itself (/sys/module/vfio_pci now present)" test -d /sys/module/vfio_pci
check "[2] /dev/vfio/$group exists after attach" test -c "/dev/vfio/$group"
check "[2] NIC #2 (same model) stays on e1000e with $iface2 up" \
    nic2_untouched
ctl "$priv" grant "$nic1" "${grant_args[@]}"
check "[2] grant succeeds" test "$ctl_rc" -eq 0
udevadm settle
check "[2] grant gave $user an ACL entry on /dev/vfio/$group, which stays root's (owner $(owner_of "/dev/vfio/$group"), ACL users: $(acl_users "/dev/vfio/$group"))" \
    granted_to "/dev/vfio/$group" "$user"
# [8] nodes that exist only on kernels with the VFIO device cdev / IOMMUFD
cdevs=()
# (sysfs always has vfio-dev/vfioN; the /dev/vfio/devices node exists only with
# CONFIG_VFIO_DEVICE_CDEV.)
for c in "$(dev "$nic1")"/vfio-dev/vfio*; do
    [[ -c /dev/vfio/devices/${c##*/} ]] && cdevs+=("/dev/vfio/devices/${c##*/}")
done
[[ ! -c /dev/iommu ]] || cdevs+=(/dev/iommu)
if [[ ${#cdevs[@]} -eq 0 ]]; then
    pass "[8] kernel $(uname -r): legacy /dev/vfio/$group only (no /dev/iommu, no /dev/vfio/devices: built without IOMMUFD/VFIO cdev)"
else
    bad=""
    for c in "${cdevs[@]}"; do granted_to "$c" "$user" || bad+=" $c($(owner_of "$c"), $(acl_users "$c"))"; done
    check "[8] kernel $(uname -r): grant also covered ${cdevs[*]}${bad:+; not granted:$bad}" test -z "$bad"
fi
if out=$(runuser -u "$user" -- vfio-check "$group" "$nic1" 2>&1); then
    pass "[2] as $user, vfio-check opens container and group, group viable, type1 IOMMU set, device fd"
    diag "$out"
else
    flunk "[2] as $user, vfio-check opens container and group, group viable, type1 IOMMU set, device fd" "$out"
fi

# ------------------------------------------------------------------ [3] udev rewrites
udevadm trigger --action=change "/sys/class/vfio/$group" "$(dev "$nic1")"
udevadm settle --timeout=60
sleep 1
check "[3] after 'udevadm trigger --action=change' on the group node and the device + settle, $user still has its ACL entry on /dev/vfio/$group ($(acl_users "/dev/vfio/$group"))" \
    granted_to "/dev/vfio/$group" "$user"
udevadm trigger --action=add "/sys/class/vfio/$group"
udevadm settle --timeout=60
sleep 1
if out=$(runuser -u "$user" -- vfio-check "$group" "$nic1" 2>&1); then
    pass "[3] after a further 'add' trigger, $user can still open the group and device (ACL users: $(acl_users "/dev/vfio/$group"))"
else
    flunk "[3] after a further 'add' trigger, $user can still open the group and device" "$out"
fi

# ------------------------------------------------------------------ [5] outsider
before=$(snapshot)
for verb in detach attach restore grant; do
    target=$nic1
    [[ $verb == detach || $verb == attach ]] && target=$nic2
    ctl "$outsider" "$verb" "$target"
    # Refused by polkit (not by some other check): the message, or the daemon's log,
    # names polkit and the action.
    if [[ $ctl_rc -eq 3 ]] && { grep -qi "polkit.*org\.vfio\.passthrough\.$verb" <<< "$ctl_out" ||
                                grep -qi "polkit.*org\.vfio\.passthrough\.$verb" "$work/dbus-daemon.log"; }; then
        pass "[5] $outsider is refused $verb $target by polkit (status 3, access denied)"
    else
        flunk "[5] $outsider is refused $verb $target by polkit (status 3, access denied)" "status $ctl_rc: $ctl_out"
    fi
done
ctl "$outsider" grant "$nic1" "$outsider"
check "[5] $outsider is refused grant $nic1 to itself by name (status 3)" test "$ctl_rc" -eq 3
after=$(snapshot)
if [[ $before == "$after" ]]; then
    pass "[5] after the outsider's attempts nothing changed (drivers, overrides, /dev/vfio owners)"
    diag "$after"
else
    flunk "[5] after the outsider's attempts nothing changed" "before:
$before
after:
$after"
fi

# ------------------------------------------------------------------ [4] restore
ctl "$priv" restore "$nic1"
check "[4] as $priv, restore $nic1 succeeds" test "$ctl_rc" -eq 0
check "[4] NIC #1 is back on e1000e, driver_override cleared (is: $(driver_of "$nic1"), '$(override_of "$nic1")')" \
    test "$(driver_of "$nic1")" = e1000e -a -z "$(override_of "$nic1")"
wait_for 10 test -n "$(iface_of "$nic1")"
check "[4] NIC #1's network interface is back ($(iface_of "$nic1"))" test -n "$(iface_of "$nic1")"
wait_for 10 node_released
check "[4] /dev/vfio/$group is gone, or root's with no ACL entry ($(owner_of "/dev/vfio/$group"), $(acl_users "/dev/vfio/$group"))" node_released
check "[4] NIC #2 still on e1000e with $iface2 up" \
    nic2_untouched
check "[4] no state record is left in /run/vfio-passthroughd" no_state

# ------------------------------------------------------------------ [6] restore while held
attach_grant() {
    ctl "$priv" attach "$nic1" && ctl "$priv" grant "$nic1" "${grant_args[@]}" && udevadm settle &&
        granted_to "/dev/vfio/$group" "$user"
}
consistent() { # either still passed through, or fully restored
    local d o; d=$(driver_of "$nic1"); o=$(override_of "$nic1")
    [[ ($d == vfio-pci && $o == vfio-pci) || ($d == e1000e && -z $o) ]]
}
# restore_while_held HOLD_ARGS...: start a holder as the user, restore in the background
# and time `list` calls until it returns.  Sets restore_rc, restore_s, list_max, list_n.
restore_while_held() {
    runuser -u "$user" -- vfio-check "$@" "$group" "$nic1" > /run/hold.log 2>&1 &
    holder=$!
    if ! wait_for 30 grep -q '^holding' /run/hold.log; then
        cat /run/hold.log
        return 1
    fi
    local t; t=$(date +%s.%N)
    ctl "$priv" restore "$nic1" > /run/restore.log 2>&1 &
    local rpid=$!
    list_max=0 list_n=0 list_fail=0
    while kill -0 "$rpid" 2>/dev/null; do
        local lt; lt=$(date +%s.%N)
        runuser -u "$user" -- vfio-passthroughctl list > /dev/null 2>&1 || list_fail=$((list_fail + 1))
        local d; d=$(since "$lt")
        list_n=$((list_n + 1))
        list_max=$(awk -v a="$list_max" -v b="$d" 'BEGIN { print (b > a) ? b : a }')
        sleep 0.2
    done
    wait "$rpid"
    restore_rc=$?
    restore_s=$(since "$t")
    cat /run/restore.log
}

if attach_grant; then
    # A holder that gives the device back when the kernel asks (as QEMU does).
    restore_while_held --hold 60 --release-on-request
    check "[6] restore while $user holds the device (with a request channel) completes: status $restore_rc in $restore_s s" \
        test "$restore_rc" -eq 0
    wait "$holder"; cat /run/hold.log
    check "[6] ... and NIC #1 is on e1000e, override cleared" \
        test "$(driver_of "$nic1")" = e1000e -a -z "$(override_of "$nic1")"
else
    flunk "[6] attach + grant again for the held-restore test"
fi

if attach_grant; then
    # A holder without a request channel: vfio-pci's unbind blocks until it closes the
    # device, longer than the daemon's 10 s operation timeout.
    hold=14
    restore_while_held --hold "$hold"
    rmsg=$(cat /run/restore.log)
    if [[ $restore_rc -eq 0 ]]; then
        pass "[6] restore while held ($hold s, no request channel) completed when the fd closed ($restore_s s)"
    elif [[ $restore_rc -eq 6 || $restore_rc -eq 5 ]] && grep -Eqi 'did not finish|timeout|timed out|busy|in use|closed the device' <<< "$rmsg"; then
        pass "[6] restore while held ($hold s, no request channel) reports what blocks it: status $restore_rc after $restore_s s"
        diag "$rmsg"
    else
        flunk "[6] restore while held reports what blocks it or completes" "status $restore_rc after $restore_s s: $rmsg"
    fi
    check "[6] the bus stayed responsive during the blocked restore: $list_n list calls, slowest $list_max s, $list_fail failed" \
        awk -v m="$list_max" -v n="$list_n" -v f="$list_fail" 'BEGIN { exit !(n > 0 && m < 3 && f == 0) }'
    wait "$holder"; cat /run/hold.log
    # After the holder closed the device, the kernel finishes the unbind and the
    # daemon finishes (or rolls back) the operation.
    wait_for 20 consistent
    sleep 2
    check "[6] after the holder closed: nothing half-done (NIC #1: $(driver_of "$nic1"), override '$(override_of "$nic1")')" consistent
    if [[ $(driver_of "$nic1") != e1000e ]]; then
        # The group stays locked until the kernel returned; retry for a while.
        for _ in 1 2 3 4 5; do ctl "$priv" restore "$nic1" && break; sleep 2; done
    fi
    wait_for 10 test -n "$(iface_of "$nic1")"
    check "[6] NIC #1 ends restored to e1000e with its interface (driver $(driver_of "$nic1"), iface '$(iface_of "$nic1")')" \
        test "$(driver_of "$nic1")" = e1000e -a -z "$(override_of "$nic1")" -a -n "$(iface_of "$nic1")"
    wait_for 10 node_released
    check "[6] /dev/vfio/$group is gone or root's" node_released
else
    flunk "[6] attach + grant again for the blocked-restore test"
fi

# ------------------------------------------------------------------ [7] SIGKILL
if attach_grant; then
    old_pid=$(name_pid org.vfio.Passthrough1)
    state=$(ls /run/vfio-passthroughd 2>/dev/null | tr '\n' ' ')
    check "[7] the daemon recorded $nic1 in /run/vfio-passthroughd (files: $state)" \
        test -n "$state"
    kill -KILL "$old_pid"
    wait_for 10 no_owner org.vfio.Passthrough1
    check "[7] daemon pid $old_pid killed with SIGKILL; the name is free" \
        no_owner org.vfio.Passthrough1
    check "[7] NIC #1 still on vfio-pci after the kill" test "$(driver_of "$nic1")" = vfio-pci
    ctl "$priv" restore "$nic1"
    rc=$ctl_rc
    new_pid=$(name_pid org.vfio.Passthrough1)
    new_daemon_ok() {
        [[ -n $new_pid && $new_pid != "$old_pid" && $(activated_count) == 2 ]] && started_by_bus "$new_pid"
    }
    check "[7][9] the next call D-Bus-activated a new daemon (pid $new_pid, was $old_pid; activations logged: $(activated_count))" \
        new_daemon_ok
    check "[7] the new daemon restored $nic1 (status $rc)" test "$rc" -eq 0
    wait_for 10 test -n "$(iface_of "$nic1")"
    check "[7] NIC #1 on e1000e, override cleared, interface back ($(driver_of "$nic1"), '$(override_of "$nic1")', '$(iface_of "$nic1")')" \
        test "$(driver_of "$nic1")" = e1000e -a -z "$(override_of "$nic1")" -a -n "$(iface_of "$nic1")"
    wait_for 10 node_released
    check "[7] /dev/vfio/$group is gone or root's" node_released
    check "[7] the state record is removed" no_state
else
    flunk "[7] attach + grant again for the SIGKILL test"
fi

# ------------------------------------------------------------------ [objects] the D-Bus objects
# shellcheck source=tests/vm/guest-objects.sh
. "$here/guest-objects.sh"
t=$(date +%s.%N)
objects_tests
echo "object tests took $(since "$t") s"

# ------------------------------------------------------------------ [crash] killed at any instant
# shellcheck source=tests/vm/guest-crash.sh
. "$here/guest-crash.sh"
t=$(date +%s.%N)
crash_tests
echo "crash tests took $(since "$t") s"

check "[2] at the end NIC #2 is still on e1000e with $iface2 up, never touched" \
    nic2_untouched

# ------------------------------------------------------------------ [8] in use by the host
# shellcheck source=tests/vm/guest-host-use.sh
. "$here/guest-host-use.sh"
t=$(date +%s.%N)
host_use_tests
echo "in-use tests took $(since "$t") s"

# ------------------------------------------------------------------ [owners] two users
# shellcheck source=tests/vm/guest-ownership.sh
. "$here/guest-ownership.sh"
t=$(date +%s.%N)
ownership_tests
echo "ownership tests took $(since "$t") s"

# ------------------------------------------------------------------ [pkg] removal
# No systemd here to stop the D-Bus activated daemon (the package's prerm does it through
# systemd): stop it the way an administrator would, then purge.
last_pid=$(name_pid org.vfio.Passthrough1)
[[ -z $last_pid ]] || { kill -TERM "$last_pid"; wait_for 20 no_owner org.vfio.Passthrough1; }
package_removal_tests

out "1..$n"
echo "guest-e2e: $n tests, $failures failed, $(since "$t0") s; guest uptime $(cut -d' ' -f1 /proc/uptime) s"
[[ $failures -eq 0 ]]
