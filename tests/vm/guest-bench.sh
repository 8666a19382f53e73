#!/bin/bash
# guest-bench.sh DESTDIR TOOLS [ROUNDS] — runs INSIDE the test guest, as root (see bench/vm-round-trip.sh).
#
# One e1000e NIC round trip (e1000e -> vfio-pci -> e1000e) on the real kernel, the same
# device each time, in interleaved rounds: the bare sysfs sequence written by the shell
# itself (no process started: the baseline), Debian's driverctl and dpdk-devbind.py (TOOLS
# holds them, unpacked by fetch-tools.sh), and vfio-passthroughctl as root and as vfio-user,
# a member of `vfio` whom the shipped example polkit rule lets through. Each timing is
# taken inside one long-lived shell of the user who runs the tool, so starting that shell
# (runuser) is not counted. Also: `lspci -Dnnk` against `vfio-passthroughctl list`, and the
# daemon's start-up and memory on this kernel.
#
# Output: lines "BENCH name<TAB>median_ms<TAB>samples..." on stdout and in
# $VM_WORKDIR/bench.tsv; the daemon's debug log (per-step timing) in $VM_WORKDIR/daemon.log.
set -uo pipefail

destdir=${1:?usage: guest-bench.sh DESTDIR TOOLS [ROUNDS]}
tools=${2:?usage: guest-bench.sh DESTDIR TOOLS [ROUNDS]}
rounds=${3:-5}

if [[ -z ${VM_KVER:-} || $(uname -r) != "$VM_KVER" || $(hostname) != vfio-guest ]]; then
    echo "guest-bench.sh: not inside the test guest, refusing to run" >&2
    exit 1
fi
work=${VM_WORKDIR:?}
tapfile=$work/bench.tap
: > "$tapfile"
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/vm/guest-lib.sh
. "$here/guest-lib.sh"
results=$work/bench.tsv
: > "$results"

# ------------------------------------------------------------------ set-up
tar -C "$destdir" -cf - . | tar -C / -xf - --keep-directory-symlink --no-same-owner || exit 1
# shellcheck source=/dev/null
. "$tools/env.sh"
user=vfio-user
getent group vfio > /dev/null || groupadd --system vfio
getent passwd "$user" > /dev/null && usermod -aG vfio "$user" || useradd --create-home --groups vfio "$user"
install -m 0644 /usr/share/doc/vfio-passthrough/examples/50-vfio-passthrough-group.rules.example \
    /etc/polkit-1/rules.d/50-vfio-passthrough-group.rules
# The daemon's debug log (per-step timing) goes to the bus's stderr, through activation.
mkdir -p /etc/systemd/system
sed -i 's|^Exec=.*|Exec=/usr/bin/env VFIO_PASSTHROUGHD_DEBUG=1 /usr/libexec/vfio-passthroughd|' \
    /usr/share/dbus-1/system-services/org.vfio.Passthrough1.service
mkdir -p /run/dbus
dbus-daemon --system --nofork --nopidfile --nosyslog > "$work/daemon.log" 2>&1 &
wait_for 60 test -S /run/dbus/system_bus_socket
/usr/lib/polkit-1/polkitd --no-debug > "$work/polkitd.log" 2>&1 &
wait_for 60 has_owner org.freedesktop.PolicyKit1
/lib/systemd/systemd-udevd --daemon > "$work/udevd.log" 2>&1
udevadm trigger --type=subsystems --action=add
udevadm trigger --type=devices --action=add
udevadm settle --timeout=120

nic=""
for d in /sys/bus/pci/devices/*; do
    [[ $(cat "$d/vendor"):$(cat "$d/device") == 0x8086:0x10d3 ]] && { nic=${d##*/}; break; }
done
[[ -n $nic ]] || { echo "Bail out! no e1000e NIC"; exit 1; }
iface=$(iface_of "$nic")
[[ -z $iface ]] || ip link set dev "$iface" down
modprobe vfio-pci
echo "NIC $nic (group $(group_of "$nic"), interface ${iface:-none}, down) on $(driver_of "$nic"); $rounds rounds"

# ------------------------------------------------------------------ the contenders
# Each is a function that moves $nic there and back; a shell of the right user runs it
# in a loop and prints one elapsed time (ms) per round trip. EPOCHREALTIME: no date(1).
contenders=(bare driverctl dpdk-devbind ctl-root ctl-user)
round_trip_code() {
    case $1 in
        bare) cat <<'EOC'
rt() {
    local p=/sys/bus/pci/devices/$nic
    echo vfio-pci > "$p/driver_override"; echo "$nic" > "$p/driver/unbind"; echo "$nic" > /sys/bus/pci/drivers_probe
    echo > "$p/driver_override"; echo "$nic" > "$p/driver/unbind"; echo "$nic" > /sys/bus/pci/drivers_probe
}
EOC
        ;;
        driverctl) echo 'rt() { driverctl --nosave set-override "$nic" vfio-pci && driverctl --nosave unset-override "$nic"; }' ;;
        dpdk-devbind) echo 'rt() { dpdk-devbind.py -b vfio-pci "$nic" && dpdk-devbind.py -b e1000e "$nic"; }' ;;
        ctl-*) echo 'rt() { vfio-passthroughctl attach "$nic" && vfio-passthroughctl restore "$nic"; }' ;;
    esac
}

measure() { # contender -> prints ms of one round trip, or FAIL
    local who=root code
    [[ $1 == ctl-user ]] && who=$user
    code="nic=$nic; $(round_trip_code "$1")"'
t=$EPOCHREALTIME; rt > /tmp/bench-rt.$UID.out 2>&1; s=$?; e=$EPOCHREALTIME
[[ $s -eq 0 ]] || { cat /tmp/bench-rt.$UID.out >&2; echo FAIL; exit 0; }
awk -v a="$t" -v b="$e" "BEGIN { printf \"%.1f\n\", (b - a) * 1000 }"'
    if [[ $who == root ]]; then
        bash -c "$code"
    else
        runuser -u "$who" -- env PATH="$PATH" LD_LIBRARY_PATH="${LD_LIBRARY_PATH:-}" bash -c "$code"
    fi
}

declare -A samples
ok_state() { [[ $(driver_of "$nic") == e1000e && -z $(override_of "$nic") ]]; }
# One warm-up trip each (module loading, page cache, the daemon's activation).
for c in "${contenders[@]}"; do
    v=$(measure "$c")
    ok_state || { echo "Bail out! $c left $nic on '$(driver_of "$nic")' override '$(override_of "$nic")'"; exit 1; }
    echo "warm-up $c: $v ms"
done
for ((r = 1; r <= rounds; r++)); do
    for c in "${contenders[@]}"; do
        v=$(measure "$c")
        if [[ $v == FAIL ]] || ! ok_state; then
            echo "Bail out! $c failed in round $r (driver '$(driver_of "$nic")', override '$(override_of "$nic")')"
            exit 1
        fi
        samples[$c]+="$v "
        echo "round $r $c: $v ms"
    done
done

median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
for c in "${contenders[@]}"; do
    m=$(median <<< "${samples[$c]}")
    printf 'BENCH round-trip %s\t%s\t%s\n' "$c" "$m" "${samples[$c]}" | tee -a "$results"
done

# ------------------------------------------------------------------ listing
time_cmd() { # prints ms of one run of the command (as root)
    local t e
    t=$EPOCHREALTIME; "$@" > /dev/null 2>&1; e=$EPOCHREALTIME
    awk -v a="$t" -v b="$e" 'BEGIN { printf "%.1f\n", (b - a) * 1000 }'
}
declare -A lists
for ((r = 0; r <= rounds; r++)); do
    a=$(time_cmd lspci -Dnnk) b=$(time_cmd vfio-passthroughctl list) c=$(time_cmd driverctl list-devices) \
        d=$(time_cmd dpdk-devbind.py --status) e=$(time_cmd vfio-passthroughctl --version)
    [[ $r -eq 0 ]] && continue # warm-up
    lists[lspci]+="$a " lists[ctl]+="$b " lists[driverctl]+="$c " lists[dpdk]+="$d " lists[ctl-start]+="$e "
done
for c in lspci ctl driverctl dpdk ctl-start; do
    printf 'BENCH list %s\t%s\t%s\n' "$c" "$(median <<< "${lists[$c]}")" "${lists[$c]}" | tee -a "$results"
done

# ------------------------------------------------------------------ the daemon itself
pid=$(name_pid org.vfio.Passthrough1)
rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$pid/status") anon=$(awk '/^RssAnon/ { print $2 }' "/proc/$pid/status")
printf 'BENCH daemon rss-kib\t%s\t\nBENCH daemon rss-anon-kib\t%s\t\n' "$rss" "$anon" | tee -a "$results"
starts=""
for ((r = 0; r <= rounds; r++)); do
    kill "$(name_pid org.vfio.Passthrough1)"
    wait_for 20 no_owner org.vfio.Passthrough1
    t=$EPOCHREALTIME
    busctl call org.vfio.Passthrough1 /org/vfio/Passthrough1 org.freedesktop.DBus.Peer Ping > /dev/null
    e=$EPOCHREALTIME
    [[ $r -eq 0 ]] || starts+="$(awk -v a="$t" -v b="$e" 'BEGIN { printf "%.1f", (b - a) * 1000 }') "
done
printf 'BENCH daemon activation-to-first-answer\t%s\t%s\n' "$(median <<< "$starts")" "$starts" | tee -a "$results"
grep -E "took|Waited" "$work/daemon.log" | tail -40
echo "guest-bench: done"
