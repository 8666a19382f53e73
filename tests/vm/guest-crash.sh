# guest-crash.sh — sourced by guest-e2e.sh INSIDE the test guest: killed at any instant, nothing
# is lost (issue 14), on the real kernel.
#
# [crash] CRASH_CYCLES cycles of attach + grant + restore of NIC #1, straight over the bus as root
# (no client and no polkit round trip around each call, so that most of each cycle is the
# daemon's own work), with the daemon SIGKILLed at a random moment of each (seeded: VFIO_PT_CRASH_SEED, or the time;
# the seed is printed so a failure can be replayed); the next call D-Bus-activates a new daemon,
# which finishes or rolls back what was cut off. After each cycle the device must be either back
# with the host (e1000e, no override, no record, no ACL entry) or fully passed through (vfio-pci,
# record without an intent, the ACL entry only if granted); at the end, after a restore, back with
# the host, with no stray override, record, ACL entry or writer process.
#
# [stop] SIGTERM while a program holds the device and the kernel waits in vfio-pci's unbind: the
# daemon answers its caller and exits within the unit's stop timeout; a new daemon starts at once
# and shows the device busy and interrupted; once the holder lets go, it finishes the restore.
#
# Needs from guest-e2e.sh: guest-lib.sh's helpers, ctl, $user, $priv, $grant_args, $nic1, $group,
# $work, node_released, no_state, consistent.
# shellcheck shell=bash

crash_cycles=${CRASH_CYCLES:-50}

record_of() { cat "/run/vfio-passthroughd/$1" 2>/dev/null; }
daemon_pid_now() { name_pid org.vfio.Passthrough1; }
writers() { pgrep -x vfio-pt-write | tr '\n' ' '; }
writer_running() { [[ -n $(writers) ]]; }
# exited PID: gone, or a zombie its parent (dbus-daemon) has not reaped yet.
exited() { ! kill -0 "$1" 2>/dev/null || grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }

# show_json KEY: one key of `show --json` for NIC #1 ("null" when absent).
show_key() {
    vfio-passthroughctl --json show "$nic1" 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
d = d.get("device", d)
v = d.get(sys.argv[1])
print("null" if v is None else str(v).lower() if isinstance(v, bool) else v)' "$1"
}
settled() { [[ $(show_key busy) == false && $(show_key interrupted) == null ]]; }

# Where NIC #1 stands, as one word: host, passed (granted or not), or what is wrong.
nic1_state() {
    local d o r acl
    d=$(driver_of "$nic1") o=$(override_of "$nic1") r=$(record_of "$nic1") acl=""
    [[ -e /dev/vfio/$group ]] && acl=$(acl_users "/dev/vfio/$group")
    if [[ $d == e1000e && -z $o && -z $r ]]; then
        [[ -z $acl ]] && echo host || echo "host-with-acl($acl)"
    elif [[ $d == vfio-pci && $o == vfio-pci && -n $r ]]; then
        if grep -q '^intent' <<< "$r"; then
            echo "passed-with-intent"
        elif grep -q "^granted_uid=$(id -u "$user")\$" <<< "$r"; then
            [[ $acl == "$(id -u "$user"):rw- " ]] && echo passed-granted || echo "passed-granted-but-acl($acl)"
        else
            [[ -z $acl ]] && echo passed || echo "passed-with-acl($acl)"
        fi
    else
        echo "broken(driver=$d,override='$o',record=$([[ -n $r ]] && echo yes || echo no),acl='$acl')"
    fi
}

# chain: attach, grant to the user, restore, as busctl calls; stops at the first failure.
chain() {
    local m
    for m in "Attach st $nic1 0" "Grant sst $nic1 $user 0" "Restore st $nic1 0"; do
        # shellcheck disable=SC2086
        busctl --system call org.vfio.Passthrough1 /org/vfio/Passthrough1 org.vfio.Passthrough1 $m || return
    done
}

crash_cycle_tests() {
    local seed=${VFIO_PT_CRASH_SEED:-$(date +%s)} i t chain_s=0 span_ms delay_ms pid state
    local bad="" recovered="" outcome_host=0 outcome_passed=0 slowest=0
    RANDOM=$seed
    out "# [crash] seed $seed (replay with VFIO_PT_CRASH_SEED=$seed)"

    # How long one uninterrupted chain takes: the kills land anywhere inside it.
    vfio-passthroughctl list > /dev/null 2>&1
    t=$(date +%s.%N)
    chain > /dev/null
    chain_s=$(since "$t")
    span_ms=$(awk -v s="$chain_s" 'BEGIN { printf "%d", s * 1000 + 100 }')
    echo "[crash] one attach+grant+restore chain takes $chain_s s; kills land within ${span_ms} ms"

    for ((i = 1; i <= crash_cycles; i++)); do
        # Start from the host's side with a live daemon.
        vfio-passthroughctl list > /dev/null 2>&1
        pid=$(daemon_pid_now)
        delay_ms=$((RANDOM * 32768 + RANDOM))
        delay_ms=$((delay_ms % span_ms))
        chain > "$work/crash-chain.log" 2>&1 &
        local chain=$!
        sleep "$(awk -v m="$delay_ms" 'BEGIN { printf "%.3f", m / 1000 }')"
        kill -KILL "$pid" 2> /dev/null
        wait "$chain"
        # The next call activates a new daemon (if the chain did not already), which recovers.
        t=$(date +%s.%N)
        wait_for 30 settled
        local s; s=$(since "$t")
        slowest=$(awk -v a="$slowest" -v b="$s" 'BEGIN { print (b > a) ? b : a }')
        state=$(nic1_state)
        local note; note=$(show_key recovery)
        echo "[crash] cycle $i: killed pid $pid after $delay_ms ms; state $state; recovery: $note"
        case $state in
            host) outcome_host=$((outcome_host + 1)) ;;
            passed | passed-granted) outcome_passed=$((outcome_passed + 1)) ;;
            *) bad+=" cycle $i ($delay_ms ms): $state;" ;;
        esac
        [[ $note == null ]] || recovered+="${note%%:*}|"
        # Back to the host for the next cycle.
        [[ $state == host ]] || vfio-passthroughctl restore "$nic1" > /dev/null 2>&1
        wait_for 10 test "$(nic1_state)" = host || bad+=" cycle $i: not restorable ($(nic1_state));"
    done

    local notes; notes=$(tr '|' '\n' <<< "$recovered" | grep -c . || true)
    check "[crash] $crash_cycles cycles with a SIGKILL at a random moment (seed $seed): every one ended consistent ($outcome_host on the host's side, $outcome_passed passed through; $notes needed start-up recovery; slowest recovery $slowest s)${bad:+; wrong:$bad}" \
        test -z "$bad"
    wait_for 10 test -n "$(iface_of "$nic1")"
    check "[crash] at the end NIC #1 is on e1000e with its interface, no override, no record, no ACL entry, no writer left ($(nic1_state), writers: '$(writers)')" \
        eval '[[ $(nic1_state) == host && -n $(iface_of "$nic1") && -z $(writers) ]] && node_released && no_state'
}

stop_while_held_tests() {
    local holder restore_pid pid t stop_s start_s rmsg

    if ! { ctl "$priv" attach "$nic1" && ctl "$priv" grant "$nic1" "${grant_args[@]}" && udevadm settle; }; then
        flunk "[stop] attach + grant for the SIGTERM test"
        return
    fi
    # A holder without a request channel: vfio-pci's unbind waits until it closes the device.
    runuser -u "$user" -- vfio-check --hold 60 "$group" "$nic1" > /run/hold.log 2>&1 &
    holder=$!
    if ! wait_for 30 grep -q '^holding' /run/hold.log; then
        flunk "[stop] vfio-check holds the device" "$(cat /run/hold.log)"
        return
    fi
    ctl "$priv" restore "$nic1" > /run/restore.log 2>&1 &
    restore_pid=$!
    # The unbind is in the kernel once a writer process waits in it.
    wait_for 10 writer_running
    pid=$(daemon_pid_now)
    t=$(date +%s.%N)
    kill -TERM "$pid"
    wait_for 20 exited "$pid"
    stop_s=$(since "$t")
    check "[stop] SIGTERM while the kernel holds the unbind: daemon pid $pid exited in $stop_s s (the unit allows 15 s), its writer ($(writers)) still in the kernel" \
        eval 'exited '"$pid"' && [[ -n $(writers) ]] && awk -v s='"$stop_s"' "BEGIN { exit !(s < 15) }"'
    wait "$restore_pid"
    rmsg=$(cat /run/restore.log)
    if grep -q "next start finishes or rolls back" <<< "$rmsg"; then
        pass "[stop] the waiting caller was answered: Interrupted"
    else
        flunk "[stop] the waiting caller was answered: Interrupted" "$rmsg"
    fi

    # A new daemon starts at once, without waiting for the kernel.
    t=$(date +%s.%N)
    vfio-passthroughctl list > /dev/null 2>&1
    start_s=$(since "$t")
    check "[stop] a new daemon answers at once while the kernel still holds the unbind ($start_s s); NIC #1 busy ($(show_key busy)), interrupted: $(show_key interrupted)" \
        eval '[[ $(show_key busy) == true && $(show_key interrupted) == restore ]] && awk -v s='"$start_s"' "BEGIN { exit !(s < 5) }"'

    kill "$holder" 2>/dev/null
    wait "$holder"
    wait_for 30 settled
    wait_for 10 test -n "$(iface_of "$nic1")"
    check "[stop] once the holder let go, the new daemon finished the restore: $(nic1_state), recovery: $(show_key recovery)" \
        eval '[[ $(nic1_state) == host && -n $(iface_of "$nic1") && -z $(writers) ]] && no_state'
}

crash_tests() {
    crash_cycle_tests
    stop_while_held_tests
}
