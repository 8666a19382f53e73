#!/bin/bash
# guest-systemd.sh DEB VFIO_CHECK — runs INSIDE the test guest booted with systemd as PID 1
# (run-guest.sh --systemd), as its unit vm-run.service, as root. Issue 13.
#
# The project's Debian package DEB is installed with dpkg -i (its scripts reload systemd and the
# bus; nothing else is done by hand), everything runs through the shipped, hardened unit, and at
# the end the package is purged: its prerm stops the unit, and no file is left (issue 16):
#   [unit]   D-Bus activation hands over to vfio-passthroughd.service (SystemdService=); the unit
#            is active; attach (vfio-pci loaded through modprobe@vfio_pci.service), grant (an ACL
#            entry; vfio-check opens the device), detach, restore, forget; the in-use check sees
#            the guest's 9p root; `systemctl restart` and restore; `systemctl stop` while a
#            program holds the device and the kernel waits in the unbind (the unit stops within
#            its timeout, the device is left consistent, the next start finishes the restore);
#            journalctl -u and the structured fields; systemd-analyze security on this system.
#   [prompt] logind sessions: desk-user logged in on tty1 (active, local, seat0), idle-user on
#            tty2 (inactive), remote-user through `login -h` (remote). No polkit rule covers
#            them, so the policy's defaults decide: desk-user's attach makes pkttyagent ask for
#            the administrator's password, which this script types on the pty; a wrong password
#            is refused with nothing changed; polkit keeps the authorization for the process it
#            asked for, so a new command asks again while a call with several checks (attach
#            --group of two NICs) asks once; idle-user and remote-user are refused unasked.
#
# Output: TAP on the serial console and in $VM_WORKDIR/guest.tap; the guest's journal goes to
# $VM_WORKDIR/journal.txt. Exit status 0 only if every test passed.
set -uo pipefail

deb=${1:?usage: guest-systemd.sh DEB VFIO_CHECK}
vfio_check_src=${2:?usage: guest-systemd.sh DEB VFIO_CHECK}

# Refuse to run anywhere but in the test guest: this script writes to sysfs and /.
if [[ -z ${VM_KVER:-} || $(uname -r) != "$VM_KVER" || $(hostname) != vfio-guest || ${VM_INIT:-} != systemd ]]; then
    echo "guest-systemd.sh: not inside the systemd test guest, refusing to run" >&2
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
trap 'journalctl -b --no-pager -o short-monotonic > "$work/journal.txt" 2>&1' EXIT

user=vfio-user
desk=desk-user idle=idle-user remote=remote-user admin=vfio-admin
admin_password=vfio-admin-password-1

echo "== guest-systemd on $(uname -r), guest uptime $(cut -d' ' -f1 /proc/uptime) s"
check "[unit] PID 1 is systemd ($(cat /proc/1/comm)); the system is up (basic.target reached)" \
    eval '[[ $(cat /proc/1/comm) == systemd ]] && systemctl is-active --quiet basic.target'

# ------------------------------------------------------------------ install the package
if ! package_install "$deb"; then
    echo "Bail out! dpkg -i $deb failed"
    exit 1
fi
install -m 0755 "$vfio_check_src" /usr/local/bin/vfio-check
check "[unit] the installed unit is known to systemd ($(systemctl show -p FragmentPath --value vfio-passthroughd.service))" \
    test "$(realpath "$(systemctl show -p FragmentPath --value vfio-passthroughd.service)")" = /usr/lib/systemd/system/vfio-passthroughd.service

for u in "$user" "$desk" "$idle" "$remote" "$admin"; do
    getent passwd "$u" > /dev/null || useradd --create-home --shell /bin/bash "$u"
done
getent group vfio > /dev/null || groupadd --system vfio
usermod -aG vfio "$user"
# Debian's polkit asks for a member of sudo (50-default.rules): the admin, and only the admin, so
# that pkttyagent asks for one password rather than for a choice of identities.
gpasswd -M "$admin" sudo > /dev/null
echo "$admin:$admin_password" | chpasswd
install -m 0644 /usr/share/doc/vfio-passthrough/examples/50-vfio-passthrough-group.rules.example \
    /etc/polkit-1/rules.d/50-vfio-passthrough-group.rules

nics=()
for d in /sys/bus/pci/devices/*; do
    [[ $(cat "$d/vendor"):$(cat "$d/device") == 0x8086:0x10d3 ]] && nics+=("${d##*/}")
done
if [[ ${#nics[@]} -ne 2 ]]; then
    echo "Bail out! expected two e1000e NICs, found ${#nics[@]}"
    exit 1
fi
nic1=${nics[0]}
group=$(group_of "$nic1")
udevadm settle --timeout=60

uid_of() { id -u "$1"; }
unit_state() { systemctl show -p ActiveState --value vfio-passthroughd.service; }
main_pid() { systemctl show -p MainPID --value vfio-passthroughd.service; }
host_side() { [[ $(driver_of "$nic1") == e1000e && -z $(override_of "$nic1") && ! -e /run/vfio-passthroughd/$nic1 ]]; }
writers() { pgrep -x vfio-pt-write | tr '\n' ' '; }
writer_running() { [[ -n $(writers) ]]; }
show_key() {
    vfio-passthroughctl --json show "$nic1" 2>/dev/null | python3 -c '
import json, sys
v = json.load(sys.stdin)["device"].get(sys.argv[1])
print("null" if v is None else str(v).lower() if isinstance(v, bool) else v)' "$1"
}
settled() { [[ $(show_key busy) == false && $(show_key interrupted) == null ]]; }
journal_has() { [[ -n $(journalctl --no-pager -q -o cat MESSAGE_ID=2f8e6b1dc4a94c0e9a7d5b3f1e6c8a24 "$@" 2>/dev/null) ]]; }

# ------------------------------------------------------------------ [unit] activation and operations
check "[unit] before the first call the unit is inactive ($(unit_state))" test "$(unit_state)" = inactive
ctl "$user" list > /dev/null
pid=$(main_pid)
check "[unit] the first call D-Bus-activated vfio-passthroughd.service through SystemdService= (unit $(unit_state), MainPID $pid, bus name owner $(name_pid org.vfio.Passthrough1))" \
    eval '[[ $(unit_state) == active && $pid -gt 0 && $(name_pid org.vfio.Passthrough1) == "$pid" ]] && journalctl -q -u dbus.service --no-pager | grep -q "Activating via systemd: service name=.org.vfio.Passthrough1. unit=.vfio-passthroughd.service."'
status_text=$(systemctl status --no-pager vfio-passthroughd.service 2>&1)
diag "$status_text"

vfio_before=no
[[ -d /sys/module/vfio_pci ]] && vfio_before=yes
ctl "$user" attach "$nic1"
check "[unit] attach as $user under the unit: $nic1 on vfio-pci ($(driver_of "$nic1"), override '$(override_of "$nic1")')" \
    eval '[[ $ctl_rc -eq 0 && $(driver_of "$nic1") == vfio-pci && $(override_of "$nic1") == vfio-pci ]]'
check "[unit] vfio-pci was loaded through modprobe@vfio_pci.service (loaded before: $vfio_before; now: $([[ -d /sys/module/vfio_pci ]] && echo yes || echo no))" \
    eval '[[ $vfio_before == no && -d /sys/module/vfio_pci ]] && journalctl -q -o cat -u modprobe@vfio_pci.service | grep -q "Finished modprobe@vfio_pci.service"'
check "[unit] the state directory is the unit's RuntimeDirectory, root's and 0700, with the record ($(stat -c '%U %a' /run/vfio-passthroughd))" \
    eval '[[ $(stat -c "%U %a" /run/vfio-passthroughd) == "root 700" && -f /run/vfio-passthroughd/$nic1 ]]'
ctl "$user" grant "$nic1"
udevadm settle
check "[unit] grant under the unit: an ACL entry for $user on /dev/vfio/$group ($(acl_users "/dev/vfio/$group")), the node root's" \
    granted_to "/dev/vfio/$group" "$user"
if out=$(runuser -u "$user" -- vfio-check "$group" "$nic1" 2>&1); then
    pass "[unit] $user opens the device through VFIO"
else
    flunk "[unit] $user opens the device through VFIO" "$out"
fi

# The in-use check reads other namespaces' mounts and /proc under the unit's sandbox.
root9p=""
for v in /sys/bus/virtio/devices/*; do
    [[ $(cat "$v/mount_tag" 2>/dev/null | tr -d '\0') == hostroot ]] && root9p=$(basename "$(dirname "$(readlink -f "$v")")")
done
ctl root attach "$root9p"
check "[unit] the in-use check works under the unit: attach of the guest's 9p root device $root9p refused (status $ctl_rc)" \
    eval '[[ $ctl_rc -eq 5 ]] && grep -q "9p filesystem mounted on" <<< "$ctl_out" && [[ $(driver_of "$root9p") == virtio-pci ]]'

# restart: the record survives (RuntimeDirectoryPreserve=yes), restore works.
systemctl restart vfio-passthroughd.service
check "[unit] systemctl restart: active again with a new MainPID ($(main_pid), was $pid)" \
    eval '[[ $(unit_state) == active && $(main_pid) != "$pid" ]]'
ctl "$user" restore "$nic1"
wait_for 10 test -n "$(iface_of "$nic1")"
check "[unit] restore after the restart: $nic1 on e1000e, no override, no record, no ACL entry" \
    eval '[[ $ctl_rc -eq 0 ]] && host_side && { [[ ! -e /dev/vfio/$group ]] || [[ -z $(acl_users "/dev/vfio/$group") ]]; }'

ctl "$user" detach "$nic1"
d_ok=$([[ $ctl_rc -eq 0 && $(driver_of "$nic1") == none && $(override_of "$nic1") == vfio-pci ]] && echo yes)
ctl "$user" restore "$nic1"
check "[unit] detach (no driver, override vfio-pci: ${d_ok:-no}) and restore" eval '[[ $d_ok == yes && $ctl_rc -eq 0 ]] && host_side'

ctl root attach "$nic1"
ctl root forget "$nic1"
check "[unit] forget as root drops the record and leaves $nic1 on $(driver_of "$nic1")" \
    eval '[[ $ctl_rc -eq 0 && ! -e /run/vfio-passthroughd/$nic1 && $(driver_of "$nic1") == vfio-pci ]]'
# Given back by hand, the way an admin would after a forget.
echo > "$(dev "$nic1")/driver_override"
echo "$nic1" > /sys/bus/pci/drivers/vfio-pci/unbind
echo "$nic1" > /sys/bus/pci/drivers_probe
wait_for 10 host_side

# ------------------------------------------------------------------ [unit] stop while the kernel holds an unbind
if ctl "$user" attach "$nic1" && ctl "$user" grant "$nic1" && udevadm settle; then
    runuser -u "$user" -- vfio-check --hold 90 "$group" "$nic1" > /run/hold.log 2>&1 &
    holder=$!
    wait_for 30 grep -q '^holding' /run/hold.log
    ctl "$user" restore "$nic1" > /run/restore.log 2>&1 &
    restore_pid=$!
    wait_for 10 writer_running
    t=$(date +%s.%N)
    systemctl stop vfio-passthroughd.service
    stop_s=$(since "$t")
    check "[unit] systemctl stop while the kernel holds the unbind returns in $stop_s s (TimeoutStopSec=15s): unit $(unit_state), writer $(writers)left to the kernel" \
        eval '[[ $(unit_state) == inactive ]] && writer_running && awk -v s='"$stop_s"' "BEGIN { exit !(s < 15) }"'
    wait "$restore_pid"
    check "[unit] the waiting caller was told the daemon stopped (Interrupted)" grep -q "next start finishes or rolls back" /run/restore.log
    vfio-passthroughctl list > /dev/null 2>&1
    check "[unit] the next call starts the unit again at once; $nic1 busy ($(show_key busy)), interrupted: $(show_key interrupted)" \
        eval '[[ $(unit_state) == active && $(show_key busy) == true && $(show_key interrupted) == restore ]]'
    kill "$holder" 2> /dev/null
    wait "$holder"
    wait_for 30 settled
    wait_for 10 test -n "$(iface_of "$nic1")"
    check "[unit] once the holder let go, the unit finished the restore: $nic1 on $(driver_of "$nic1"), recovery: $(show_key recovery)" \
        eval 'host_side && ! writer_running'
else
    flunk "[unit] attach + grant for the stop test"
fi

# ------------------------------------------------------------------ [unit] the journal
daemon_log=$(journalctl -q -u vfio-passthroughd.service --no-pager -o cat)
check "[unit] journalctl -u vfio-passthroughd has the daemon's messages ($(grep -c . <<< "$daemon_log") lines)" \
    grep -q "running as org.vfio.Passthrough1" <<< "$daemon_log"
check "[unit] structured entries: attach by $user (CALLER_UID=$(uid_of "$user"), DEVICE=$nic1, RESULT=done), the recovery (OPERATION=recover)" \
    eval 'journal_has OPERATION=attach CALLER_UID=$(uid_of "$user") DEVICE=$nic1 RESULT=done _SYSTEMD_UNIT=vfio-passthroughd.service && journal_has OPERATION=recover DEVICE=$nic1 RESULT=done'

security=$(systemd-analyze security --no-pager vfio-passthroughd.service 2>&1 | tail -n 1)
exposure=$(sed -n 's/.*exposure level for vfio-passthroughd.service: \([0-9.]*\).*/\1/p' <<< "$security")
out "# [unit] systemd-analyze security on the running system: $security"
check "[unit] exposure on the running system is $exposure (at most 2.5)" \
    awk -v e="$exposure" 'BEGIN { exit !(e != "" && e <= 2.5) }'

# ------------------------------------------------------------------ [prompt] sessions and pkttyagent
# Each test user's login shell runs this agent: commands dropped in its spool run inside the
# user's logind session, which is what polkit judges.
mkdir -p /run/vm-session
cat > /usr/local/bin/vm-session-agent <<'AGENT'
#!/bin/bash
spool=/run/vm-session/$USER
while :; do
    for f in "$spool"/*.cmd; do
        [[ -e $f ]] || continue
        base=${f%.cmd}
        mv "$f" "$base.running"
        bash "$base.running" > "$base.out" 2>&1
        echo $? > "$base.tmp" && mv "$base.tmp" "$base.status"
    done
    sleep 0.2
done
AGENT
# vm-prompt [--hold] ANSWER... -- COMMAND...: runs COMMAND on a new pty and types the next
# ANSWER each time it shows a password prompt ("-" answers nothing: the prompt is cancelled).
# Prints the transcript, then PROMPTS=N; exits with COMMAND's status. --hold: keep the pty
# open until killed (a login session).
cat > /usr/local/bin/vm-prompt <<'PROMPT'
#!/usr/bin/python3
import os, pty, select, signal, sys, termios, time
args = sys.argv[1:]
hold = args[:1] == ["--hold"]
if hold:
    args = args[1:]
sep = args.index("--")
answers, command = [a for a in args[:sep] if a != "-"], args[sep + 1:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(command[0], command)
seen, prompts, deadline, status = b"", 0, time.time() + 60, None
while hold or time.time() < deadline:
    r, _, _ = select.select([fd], [], [], 0.5)
    if not r:
        continue
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    seen += chunk
    sys.stdout.write(chunk.decode(errors="replace"))
    sys.stdout.flush()
    if b"password:" in seen.lower():
        prompts += 1
        seen = b""
        # Type only once the agent reads with echo off: switching echo off may flush what was
        # typed before, as a terminal does.
        until = time.time() + 5
        while termios.tcgetattr(fd)[3] & termios.ECHO and time.time() < until:
            time.sleep(0.05)
        # An unanswered prompt is ended the way a user at a terminal would: end of input.
        os.write(fd, answers.pop(0).encode() + b"\n" if answers else b"\x04")
else:
    print("\nvm-prompt: no end after 60 s; killing %s" % command[0])
    os.kill(pid, signal.SIGKILL)
_, status = os.waitpid(pid, 0)
print("\nPROMPTS=%d" % prompts)
sys.exit(os.waitstatus_to_exitcode(status))
PROMPT
chmod 0755 /usr/local/bin/vm-session-agent /usr/local/bin/vm-prompt
for u in "$desk" "$idle" "$remote"; do
    install -d -o "$u" -m 0700 "/run/vm-session/$u"
    echo 'exec /usr/local/bin/vm-session-agent' > "/home/$u/.bash_profile"
    chown "$u" "/home/$u/.bash_profile"
done
for tty in tty1:"$desk" tty2:"$idle"; do
    mkdir -p "/etc/systemd/system/getty@${tty%%:*}.service.d"
    printf '[Service]\nExecStart=\nExecStart=-/sbin/agetty --autologin %s --noclear %%I $TERM\n' "${tty#*:}" \
        > "/etc/systemd/system/getty@${tty%%:*}.service.d/autologin.conf"
done
systemctl daemon-reload
systemctl start getty@tty1.service getty@tty2.service
# A remote login: login -h sets the remote host, and pam_systemd registers the session as remote.
vm-prompt --hold - -- login -h remote.example.test -f "$remote" > "$work/remote-login.log" 2>&1 &
remote_login=$!

# session_of USER PROPERTY: a property of USER's logind session.
session_of() {
    local s; s=$(loginctl list-sessions --no-legend | awk -v u="$1" '$3 == u { print $1; exit }')
    [[ -n $s ]] && loginctl show-session "$s" -p "$2" --value
}
sessions_ready() {
    [[ $(session_of "$desk" Active) == yes && $(session_of "$idle" Active) == no &&
        $(session_of "$remote" Remote) == yes ]]
}
wait_for 60 sessions_ready
loginctl list-sessions --no-legend | while IFS= read -r l; do echo "session: $l"; done
check "[prompt] logind: $desk active on seat0/tty1 ($(session_of "$desk" Seat)/$(session_of "$desk" TTY), active $(session_of "$desk" Active)), $idle inactive on tty2 ($(session_of "$idle" Active)), $remote remote ($(session_of "$remote" RemoteHost))" \
    eval 'sessions_ready && [[ $(session_of "$desk" Seat) == seat0 && $(session_of "$desk" Remote) == no ]]'

# in_session USER SCRIPT: runs SCRIPT inside USER's session; sets sess_rc and sess_out.
seq_n=0
in_session() {
    local spool=/run/vm-session/$1 base
    seq_n=$((seq_n + 1))
    base=$spool/$seq_n
    printf '%s\n' "$2" > "$base.tmp" && chown "$1" "$base.tmp" && mv "$base.tmp" "$base.cmd"
    if ! wait_for 90 test -e "$base.status"; then
        sess_rc=124 sess_out="(no answer from $1's session) $(cat "$base.out" 2>/dev/null)"
        diag "$sess_out"
        return
    fi
    sess_rc=$(cat "$base.status") sess_out=$(cat "$base.out")
    echo "[$1, in its session] $2 -> status $sess_rc"
    while IFS= read -r l; do echo "    $l"; done <<< "$sess_out"
}
prompts() { sed -n 's/^PROMPTS=//p' <<< "$sess_out" | tail -n 1; }
ctl_cmd="vfio-passthroughctl"

# Refused without a prompt: the inactive and the remote session.
in_session "$idle" "vm-prompt $admin_password -- $ctl_cmd attach $nic1"
check "[prompt] $idle (inactive session) is refused attach without being asked (status $sess_rc, prompts $(prompts)); $nic1 untouched" \
    eval '[[ $sess_rc -eq 3 && $(prompts) == 0 ]] && host_side'
in_session "$remote" "vm-prompt $admin_password -- $ctl_cmd attach $nic1"
check "[prompt] $remote (remote session) is refused attach without being asked (status $sess_rc, prompts $(prompts)); $nic1 untouched" \
    eval '[[ $sess_rc -eq 3 && $(prompts) == 0 ]] && host_side'

# The active local session: pkttyagent asks for the administrator's password.
in_session "$desk" "vm-prompt $admin_password -- $ctl_cmd attach $nic1"
check "[prompt] $desk's attach made pkttyagent ask for $admin's password once, and with it succeeded (status $sess_rc, prompts $(prompts))" \
    eval '[[ $sess_rc -eq 0 && $(prompts) == 1 && $(driver_of "$nic1") == vfio-pci ]] && grep -q "AUTHENTICATING FOR org.vfio.passthrough.attach" <<< "$sess_out"'
check "[prompt] ... and $desk owns the device (owner $(show_key owner), uid $(uid_of "$desk"))" \
    test "$(show_key owner)" = "$(uid_of "$desk")"
in_session "$desk" "vm-prompt wrong-password -- $ctl_cmd restore $nic1"
check "[prompt] a wrong password is refused (status $sess_rc, prompts $(prompts)) and nothing changed ($nic1 on $(driver_of "$nic1"))" \
    eval '[[ $sess_rc -ne 0 && $(prompts) -ge 1 && $(driver_of "$nic1") == vfio-pci && -e /run/vfio-passthroughd/$nic1 ]]'
# polkit keeps an auth_admin_keep authorization for the process that was asked for: each new
# command asks once, and a call that needs several checks asks once for all of them.
in_session "$desk" "vm-prompt $admin_password -- $ctl_cmd restore $nic1"
check "[prompt] restore, a new command, asks once and succeeds (status $sess_rc, prompts $(prompts))" \
    eval '[[ $sess_rc -eq 0 && $(prompts) == 1 ]] && host_side'
pair=()
for d in /sys/bus/pci/devices/*; do
    [[ $(cat "$d/vendor"):$(cat "$d/device") == 0x8086:0x100e ]] && pair+=("${d##*/}")
done
if [[ ${#pair[@]} -eq 2 ]]; then
    in_session "$desk" "vm-prompt $admin_password -- $ctl_cmd attach ${pair[0]} --group"
    check "[prompt] attach --group of two NICs behind one bridge asks once for both, within the keep window (status $sess_rc, prompts $(prompts); ${pair[0]} on $(driver_of "${pair[0]}"), ${pair[1]} on $(driver_of "${pair[1]}"))" \
        eval '[[ $sess_rc -eq 0 && $(prompts) == 1 && $(driver_of "${pair[0]}") == vfio-pci && $(driver_of "${pair[1]}") == vfio-pci ]]'
    in_session "$desk" "vm-prompt $admin_password -- $ctl_cmd restore ${pair[0]} --group"
    check "[prompt] restore --group asks once for both and gives them back to e1000 (status $sess_rc, prompts $(prompts))" \
        eval '[[ $sess_rc -eq 0 && $(prompts) == 1 && $(driver_of "${pair[0]}") == e1000 && $(driver_of "${pair[1]}") == e1000 ]]'
else
    flunk "[prompt] the guest has the two e1000 NICs of run-guest.sh --shared-group" "found: ${pair[*]}"
fi

kill "$remote_login" 2> /dev/null

# ------------------------------------------------------------------ [pkg] removal
ctl "$user" list > /dev/null
pid=$(main_pid)
package_removal_tests
check "[pkg] the package's prerm stopped the running unit (was MainPID $pid; now $(unit_state), process $(ps -o comm= -p "$pid" 2>/dev/null || echo gone))" \
    eval '[[ $pid -gt 0 && $(unit_state) == inactive ]] && ! kill -0 "$pid" 2>/dev/null'
check "[pkg] systemd no longer knows the unit after the purge ($(systemctl show -p LoadState --value vfio-passthroughd.service))" \
    test "$(systemctl show -p LoadState --value vfio-passthroughd.service)" = not-found
out "1..$n"
echo "guest-systemd: $n tests, $failures failed, $(since "$t0") s; guest uptime $(cut -d' ' -f1 /proc/uptime) s"
[[ $failures -eq 0 ]]
