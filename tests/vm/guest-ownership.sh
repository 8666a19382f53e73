# guest-ownership.sh — sourced by guest-e2e.sh INSIDE the test guest, after the in-use tests:
# one user's device is not another's (issue 9) on the real kernel. Two members of the group vfio
# each attach and grant themselves one NVMe drive; each opens its own through VFIO and is refused
# the other's by the kernel (the ACL entry is the only access there is); the second may not
# restore or take the first one's device; each restores its own and no ACL entry is left. The
# journal (systemd-journald, started by guest-e2e.sh) has a structured entry for each call.
#
# Needs from guest-e2e.sh: guest-lib.sh's helpers, ctl, $user, $work, $journald (the journald
# pid, empty when it could not start) and nvme_by_serial from guest-host-use.sh.
# shellcheck shell=bash

# vfio_open USER GROUP ADDRESS: vfio-check as USER; its output in $vfio_out.
vfio_open() {
    vfio_out=$(runuser -u "$1" -- vfio-check "$2" "$3" 2>&1)
}

only_owner_granted() { # A_GROUP A_USER B_GROUP B_USER
    granted_to "/dev/vfio/$1" "$2" && granted_to "/dev/vfio/$3" "$4" &&
        ! granted_to "/dev/vfio/$1" "$4" && ! granted_to "/dev/vfio/$3" "$2"
}
still_granted_alone() { # ADDRESS GROUP USER UID
    [[ $(driver_of "$1") == vfio-pci && $(acl_users "/dev/vfio/$2") == "$4:rw- " ]] && granted_to "/dev/vfio/$2" "$3"
}
both_restored() { # ADDRESS ADDRESS
    [[ $(driver_of "$1") == nvme && $(driver_of "$2") == nvme && -z $(override_of "$1") && -z $(override_of "$2") ]]
}

# journal_has FIELD=VALUE...: one or more entries of the daemon's calls match all of them.
journal_has() {
    [[ -n $(journalctl --no-pager -q -o cat MESSAGE_ID=2f8e6b1dc4a94c0e9a7d5b3f1e6c8a24 "$@" 2>/dev/null) ]]
}

ownership_tests() {
    local second=vfio-user2 a_dev b_dev a_group b_group a_uid b_uid

    if getent passwd "$second" > /dev/null; then usermod -aG vfio "$second"; else useradd --create-home --groups vfio "$second"; fi
    a_uid=$(id -u "$user") b_uid=$(id -u "$second")
    a_dev=$(nvme_by_serial vfpt-btrfs) b_dev=$(nvme_by_serial vfpt-luks)
    a_group=$(group_of "$a_dev") b_group=$(group_of "$b_dev")
    echo "owners: $user (uid $a_uid) takes $a_dev (group $a_group), $second (uid $b_uid) takes $b_dev (group $b_group)"

    ctl "$user" attach "$a_dev" && ctl "$user" grant "$a_dev"
    ctl "$second" attach "$b_dev" && ctl "$second" grant "$b_dev"
    udevadm settle
    check "[owners] each has an ACL entry on its own group node only, and the nodes stay root's ($a_group: $(acl_users "/dev/vfio/$a_group"); $b_group: $(acl_users "/dev/vfio/$b_group"))" \
        only_owner_granted "$a_group" "$user" "$b_group" "$second"

    if vfio_open "$user" "$a_group" "$a_dev"; then
        pass "[owners] $user opens its own device $a_dev through VFIO"
    else
        flunk "[owners] $user opens its own device $a_dev through VFIO" "$vfio_out"
    fi
    if vfio_open "$second" "$b_group" "$b_dev"; then
        pass "[owners] $second opens its own device $b_dev through VFIO"
    else
        flunk "[owners] $second opens its own device $b_dev through VFIO" "$vfio_out"
    fi
    if ! vfio_open "$user" "$b_group" "$b_dev" && grep -qi "permission denied" <<< "$vfio_out"; then
        pass "[owners] the kernel refuses $user the other's group /dev/vfio/$b_group (permission denied)"
    else
        flunk "[owners] the kernel refuses $user the other's group /dev/vfio/$b_group" "$vfio_out"
    fi
    if ! vfio_open "$second" "$a_group" "$a_dev" && grep -qi "permission denied" <<< "$vfio_out"; then
        pass "[owners] the kernel refuses $second the other's group /dev/vfio/$a_group (permission denied)"
    else
        flunk "[owners] the kernel refuses $second the other's group /dev/vfio/$a_group" "$vfio_out"
    fi

    # The second member may not pull the first one's device out, nor take it.
    for verb in restore detach grant; do
        ctl "$second" "$verb" "$a_dev"
        if [[ $ctl_rc -eq 3 ]] && grep -q "org.vfio.passthrough.manage-other" <<< "$ctl_out"; then
            pass "[owners] $second is refused $verb of $user's $a_dev: manage-other (status 3)"
        else
            flunk "[owners] $second is refused $verb of $user's $a_dev: manage-other (status 3)" "status $ctl_rc: $ctl_out"
        fi
    done
    check "[owners] ... and $a_dev is still on vfio-pci, granted to $user alone ($(acl_users "/dev/vfio/$a_group"))" \
        still_granted_alone "$a_dev" "$a_group" "$user" "$a_uid"

    ctl "$user" restore "$a_dev"
    ctl "$second" restore "$b_dev"
    check "[owners] each restores its own: both back on nvme, no override" both_restored "$a_dev" "$b_dev"
    check "[owners] no state record is left" no_state

    if [[ -z ${journald:-} ]]; then
        skip "[owners] the journal has the calls" "systemd-journald did not start in the guest"
        return
    fi
    check "[owners] journalctl MESSAGE_ID=...: $user's attach of $a_dev, done" \
        journal_has OPERATION=attach DEVICE="$a_dev" CALLER_UID="$a_uid" RESULT=done
    check "[owners] journalctl MESSAGE_ID=...: $second's restore of $a_dev, denied by polkit" \
        journal_has OPERATION=restore DEVICE="$a_dev" CALLER_UID="$b_uid" RESULT=denied \
        ERROR=org.freedesktop.DBus.Error.AccessDenied
    check "[owners] journalctl MESSAGE_ID=...: $second's grant to itself (uid $b_uid) of $b_dev, done" \
        journal_has OPERATION=grant DEVICE="$b_dev" TARGET_UID="$b_uid" RESULT=done
}
