# guest-lib.sh — sourced by the guest scripts (guest-e2e.sh, guest-host-use.sh): TAP output,
# waiting, and reading sysfs and the bus as the tests need them.  Expects $work (the shared work
# dir) and $tapfile to be set by the script that sources it.

# The scripts write to the serial console: a terminal nobody reads keys from. The client's pager
# would wait there for ever (as systemctl's would), so its output goes straight through.
export VFIO_PASSTHROUGHCTL_PAGER=cat

# ------------------------------------------------------------------ TAP helpers
n=0
failures=0
out() { echo "$*"; echo "$*" >> "$tapfile"; }
diag() { local l; while IFS= read -r l; do out "# $l"; done <<< "$*"; }
pass() { n=$((n + 1)); out "ok $n - $1"; }
flunk() { n=$((n + 1)); failures=$((failures + 1)); out "not ok $n - $1"; [[ $# -lt 2 ]] || diag "$2"; }
skip() { n=$((n + 1)); out "ok $n - $1 # SKIP $2"; }
# check DESC COMMAND...: one test, passing when COMMAND succeeds.
check() { local d=$1; shift; if "$@"; then pass "$d"; else flunk "$d" "failed: $*"; fi; }
since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }'; }
# wait_for SECONDS COMMAND...: poll until COMMAND succeeds.
wait_for() {
    local deadline=$(($(date +%s) + $1)); shift
    until "$@"; do
        [[ $(date +%s) -lt $deadline ]] || return 1
        sleep 0.1
    done
}

# ------------------------------------------------------------------ sysfs helpers
dev() { echo "/sys/bus/pci/devices/$1"; }
driver_of() {
    local l
    if l=$(readlink "$(dev "$1")/driver"); then echo "${l##*/}"; else echo none; fi
}
override_of() { local o; o=$(cat "$(dev "$1")/driver_override"); [[ $o == "(null)" ]] && o=""; echo "$o"; }
group_of() { basename "$(readlink "$(dev "$1")/iommu_group")"; }
iface_of() { ls "$(dev "$1")/net" 2>/dev/null | head -n1; }
iface_up() { # IFF_UP is bit 0 of the flags
    local i; i=$(iface_of "$1"); [[ -n $i ]] || return 1
    (( $(cat "/sys/class/net/$i/flags") & 1 ))
}
owner_of() { stat -c %U "$1" 2>/dev/null || echo absent; }
# granted_to NODE USER: a POSIX ACL entry lets USER read and write NODE (through the mask), and
# the node is still root's.
granted_to() {
    local acl; acl=$(getfacl -n --omit-header "$1" 2>/dev/null) || return 1
    [[ $(owner_of "$1") == root ]] && grep -q "^user:$(id -u "$2"):rw-" <<< "$acl" &&
        { ! grep -q '^mask::' <<< "$acl" || grep -q '^mask::rw' <<< "$acl"; }
}
# acl_users NODE: the named-user entries of NODE's ACL, "uid:perms" each ("" when none).
acl_users() { getfacl -n --omit-header "$1" 2>/dev/null | sed -n 's/^user:\([0-9][0-9]*\):\(...\).*/\1:\2/p' | tr '\n' ' '; }
# ------------------------------------------------------------------ bus helpers
no_owner() { ! has_owner "$1"; }
has_owner() {
    dbus-send --system --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
        org.freedesktop.DBus.NameHasOwner "string:$1" 2>/dev/null | grep -q 'boolean true'
}
name_pid() { # pid of the process owning bus name $1
    dbus-send --system --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
        org.freedesktop.DBus.GetConnectionUnixProcessID "string:$1" 2>/dev/null |
        awk '/uint32/ { print $2 }'
}
ctl_rc=0
ctl_out=""
# ctl USER ARGS...: run vfio-passthroughctl as USER; sets ctl_rc and ctl_out
# (stdout+stderr), which also goes to the console.
ctl() {
    local u=$1; shift
    local t; t=$(date +%s.%N)
    if [[ $u == root ]]; then
        ctl_out=$(vfio-passthroughctl --no-ask-password "$@" 2>&1)
    else
        ctl_out=$(runuser -u "$u" -- vfio-passthroughctl --no-ask-password "$@" 2>&1)
    fi
    ctl_rc=$?
    echo "[$u] vfio-passthroughctl $* -> status $ctl_rc in $(since "$t") s"
    [[ -z $ctl_out ]] || while IFS= read -r l; do echo "    $l"; done <<< "$ctl_out"
    return $ctl_rc
}
# list_group USER ADDRESS: the GROUP column of `list` for ADDRESS, as USER.
list_group() {
    runuser -u "$1" -- vfio-passthroughctl list 2>/dev/null | awk -v a="$2" '$1 == a { print $NF }'
}

