# guest-objects.sh — sourced by guest-e2e.sh INSIDE the test guest: the object model (issue 10)
# as a desktop app or a script uses it on the real kernel. The unprivileged member of `vfio`
# drives one whole cycle through NIC #1's Device object with busctl (Attach, Grant, Restore and
# get-property), while `busctl monitor` records the daemon's PropertiesChanged signals; the
# recorded changes must tell the same story, in order, as the kernel's sysfs.
#
# Needs from guest-e2e.sh: guest-lib.sh's helpers, $user, $nic1, $group, $work; NIC #1 on
# e1000e with no record.
# shellcheck shell=bash

# as_user_busctl ARGS...: busctl on the system bus as $user; output in $busctl_out.
as_user_busctl() {
    busctl_out=$(runuser -u "$user" -- busctl --system "$@" 2>&1)
    local rc=$?
    echo "[$user] busctl $* -> status $rc"
    [[ -z $busctl_out ]] || while IFS= read -r l; do echo "    $l"; done <<< "$busctl_out"
    return $rc
}

# property OBJECT INTERFACE NAME: busctl's rendering of the property, as $user.
property() {
    runuser -u "$user" -- busctl --system get-property org.vfio.Passthrough1 "$1" "$2" "$3" 2>&1
}

# The changes busctl monitor recorded for an object: one line per PropertiesChanged signal, each
# change as Name=value (JSON), in the order of the interface's properties.
recorded_changes() { # FILE OBJECT
    python3 - "$1" "$2" << 'EOF'
import json, sys
path, obj = sys.argv[1], sys.argv[2]
for line in open(path):
    line = line.strip()
    if not line.startswith("{"):
        continue
    m = json.loads(line)
    if m.get("member") != "PropertiesChanged" or m.get("path") != obj:
        continue
    interface, changed, _ = m["payload"]["data"]
    print(" ".join(f"{name}={json.dumps(value['data'])}" for name, value in changed.items()))
EOF
}

# in_order FILE CHANGE...: each CHANGE is announced, none before the one before it (two may come
# in one signal: the end of an operation announces Busy=false with what it changed last).
in_order() {
    local file=$1 at=1 found; shift
    for want in "$@"; do
        found=$(awk -v w="$want" -v from="$at" \
            'NR >= from { for (i = 1; i <= NF; i++) if ($i == w) { print NR; exit } }' "$file")
        [[ -n $found ]] || return 1
        at=$found
    done
}

lists_both() { grep -q -- "$1\$" <<< "$busctl_out" && grep -q -- "$2\$" <<< "$busctl_out"; }

objects_tests() {
    local path="/org/vfio/Passthrough1/devices/${nic1//[:.]/_}" gpath="/org/vfio/Passthrough1/groups/$group"
    local dev_if=org.vfio.Passthrough1.Device group_if=org.vfio.Passthrough1.Group
    local uid monitor_pid log="$work/busctl-monitor.json" changes="$work/busctl-changes.txt"

    uid=$(id -u "$user")
    as_user_busctl tree org.vfio.Passthrough1
    check "[objects] busctl tree lists $path and $gpath" lists_both "$path" "$gpath"

    # As an app would: subscribe first, then act. busctl monitor needs root (BecomeMonitor).
    stdbuf -oL busctl --system monitor --json=short org.vfio.Passthrough1 > "$log" 2> "$work/busctl-monitor.err" &
    monitor_pid=$!
    sleep 1

    as_user_busctl call org.vfio.Passthrough1 "$path" "$dev_if" Attach 'a{sv}' 0
    check "[objects] as $user, Attach on the Device object replies group $gpath, viable, moved [$path]" \
        test "$busctl_out" = "obao \"$gpath\" true 1 \"$path\""
    check "[objects] get-property Driver is \"vfio-pci\" and the kernel agrees ($(driver_of "$nic1"))" \
        test "$(property "$path" $dev_if Driver)" = 's "vfio-pci"' -a "$(driver_of "$nic1")" = vfio-pci
    check "[objects] get-property Managed true, OriginalDriver \"e1000e\", Owner $uid" \
        test "$(property "$path" $dev_if Managed) $(property "$path" $dev_if OriginalDriver) $(property "$path" $dev_if Owner)" \
        = "b true s \"e1000e\" u $uid"
    check "[objects] the Group object says Viable and its node /dev/vfio/$group" \
        test "$(property "$gpath" $group_if Viable) $(property "$gpath" $group_if Node)" = "b true s \"/dev/vfio/$group\""

    as_user_busctl call org.vfio.Passthrough1 "$path" "$dev_if" Grant 'a{sv}' 0
    check "[objects] Grant (to the caller) replies uid $uid and the group node first" \
        grep -q "^uastt $uid [0-9]* \"/dev/vfio/$group\"" <<< "$busctl_out"
    udevadm settle
    check "[objects] get-property Grantee is $uid and the kernel's node has $user's ACL entry" \
        test "$(property "$path" $dev_if Grantee)" = "u $uid" -a -n "$(granted_to "/dev/vfio/$group" "$user" && echo y)"

    as_user_busctl call org.vfio.Passthrough1 "$path" "$dev_if" Restore 'a{sv}' 0
    check "[objects] Restore replies driver e1000e, restored [$path]" \
        test "$busctl_out" = "sao \"e1000e\" 1 \"$path\""
    check "[objects] get-property Driver \"e1000e\", Managed false, and the kernel agrees ($(driver_of "$nic1"))" \
        test "$(property "$path" $dev_if Driver) $(property "$path" $dev_if Managed)" = 's "e1000e" b false' \
        -a "$(driver_of "$nic1")" = e1000e

    sleep 1
    kill "$monitor_pid" 2> /dev/null
    wait "$monitor_pid" 2> /dev/null
    recorded_changes "$log" "$path" > "$changes"
    recorded_changes "$log" "$gpath" > "$changes.group"
    diag "PropertiesChanged of $path and $gpath, one signal per line, as busctl monitor recorded them:
$(cat "$changes")
$(cat "$changes.group")"
    check "[objects] busctl monitor saw, in order: Busy, Driver vfio-pci, Busy false; Grantee $uid; Busy, Driver e1000e, Managed false, Busy false" \
        in_order "$changes" 'Busy=true' 'Driver="vfio-pci"' 'Busy=false' "Grantee=$uid" 'Busy=true' 'Driver="e1000e"' \
        'Managed=false' 'Busy=false'
    check "[objects] and the Group object's Viable went true then false" \
        in_order "$changes.group" 'Viable=true' 'Viable=false'
}
