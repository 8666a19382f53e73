# guest-host-use.sh — sourced by guest-e2e.sh INSIDE the test guest, after the main workflow:
# the in-use protection of issue 8 on the real kernel.  e2e.sh gives the guest four emulated NVMe
# drives (serials vfpt-swap, vfpt-btrfs, vfpt-luks, vfpt-md; vfpt-swap behind a PCIe root port)
# and this script makes the host use each of them the way a real host does: an active swap area,
# a mounted btrfs, an open LUKS mapping, an assembled md array, a program holding the disk open, a
# mount in another mount namespace, a mount in a namespace no process is in.  Each is refused to
# the unprivileged vfio user with the holder named, before (show) and in the refusal, with the
# device still on its driver, no override, no record, and its data still readable.  So are the
# guest's own 9p devices (its root filesystem and the work dir) and the root port.  FORCE, as
# root, where nothing the test needs is lost.
#
# Needs from guest-e2e.sh: the TAP and sysfs helpers of guest-lib.sh, ctl, $priv (who runs the
# verbs), $user, $work, and $tools (the storage tools unpacked by fetch-tools.sh).
# shellcheck shell=bash

# The PCI function of the NVMe drive with this serial (QEMU pads serials with spaces).
nvme_by_serial() {
    local c
    for c in /sys/bus/pci/devices/*/nvme/nvme*; do
        [[ $(tr -d ' ' < "$c/serial") == "$1" ]] || continue
        c=${c%/nvme/*}
        echo "${c##*/}"
        return 0
    done
    return 1
}
# /dev/nvmeXnY of the first namespace of the drive at PCI address $1.
nvme_disk_of() {
    local b
    for b in /sys/bus/pci/devices/"$1"/nvme/nvme*/nvme*n1; do
        [[ -e $b ]] && { echo "/dev/${b##*/}"; return 0; }
    done
    return 1
}
has_record() { [[ -e /run/vfio-passthroughd/$1 ]]; }

# still_host ADDRESS DRIVER: on its driver, no override, no record of the daemon.
still_host() {
    [[ $(driver_of "$1") == "$2" && -z $(override_of "$1") ]] && ! has_record "$1"
}

# refused DESC ADDRESS DRIVER HOLDER [SHOWN]: show's "Host use:" line has SHOWN (default: HOLDER);
# detach and attach as $priv exit 5 naming HOLDER; the device is left as it was.
refused() {
    local desc=$1 a=$2 drv=$3 holder=$4 shown=${5:-$4} verb bad=""
    ctl "$user" show "$a"
    if grep '^Host use:' <<< "$ctl_out" | grep -qF "$shown"; then
        pass "[in use] $desc: show says '$shown' before anyone tries"
    else
        flunk "[in use] $desc: show says '$shown' before anyone tries" "$ctl_out"
    fi
    for verb in detach attach; do
        ctl "$priv" "$verb" "$a"
        [[ $ctl_rc -eq 5 ]] && grep -qF "$holder" <<< "$ctl_out" || bad+=" $verb: status $ctl_rc: $ctl_out;"
    done
    if [[ -z $bad ]] && still_host "$a" "$drv"; then
        pass "[in use] $desc: detach and attach refused (status 5) naming the holder; $a still on $drv, no override, no record"
    else
        flunk "[in use] $desc: detach and attach refused naming '$holder'; $a left on $drv" \
            "$bad driver $(driver_of "$a"), override '$(override_of "$a")', record: $(ls /run/vfio-passthroughd 2>/dev/null)"
    fi
}

# round_trip DESC ADDRESS DRIVER [USER]: attach and restore work again once nothing holds it.
round_trip() {
    local desc=$1 a=$2 drv=$3 who=${4:-$priv}
    if ctl "$who" attach "$a" && [[ $(driver_of "$a") == vfio-pci ]] && ctl "$who" restore "$a" &&
        wait_for 10 still_host "$a" "$drv"; then
        pass "[in use] $desc: once released, $a goes to vfio-pci and back to $drv"
    else
        flunk "[in use] $desc: once released, $a goes to vfio-pci and back to $drv" "driver $(driver_of "$a"): $ctl_out"
    fi
}

hidden_mount_only() {
    nsenter --mount=/run/mntns/held grep -q "^$1 /mnt/hidden " /proc/self/mounts &&
        ! grep -q "$1" /proc/[0-9]*/mountinfo 2>/dev/null
}

forced_bridge_refused() {
    [[ $ctl_rc -ne 0 ]] && grep -q 'does not drive bridges' <<< "$ctl_out" && still_host "$1" pcieport
}

host_use_tests() {
    local swap_nvme btrfs_nvme luks_nvme md_nvme port swap_disk btrfs_disk luks_disk md_disk
    local key=/run/luks.key pid out

    # shellcheck source=/dev/null
    . "$tools/env.sh"
    swap_nvme=$(nvme_by_serial vfpt-swap) btrfs_nvme=$(nvme_by_serial vfpt-btrfs)
    luks_nvme=$(nvme_by_serial vfpt-luks) md_nvme=$(nvme_by_serial vfpt-md)
    if [[ -z $swap_nvme || -z $btrfs_nvme || -z $luks_nvme || -z $md_nvme ]]; then
        flunk "[in use] the guest has the four NVMe drives of the in-use tests" "$(ls /sys/bus/pci/devices)"
        return
    fi
    swap_disk=$(nvme_disk_of "$swap_nvme") btrfs_disk=$(nvme_disk_of "$btrfs_nvme")
    luks_disk=$(nvme_disk_of "$luks_nvme") md_disk=$(nvme_disk_of "$md_nvme")
    port=$(basename "$(dirname "$(readlink -f "$(dev "$swap_nvme")")")")
    echo "in-use drives: swap $swap_nvme ($swap_disk, behind $port), btrfs $btrfs_nvme ($btrfs_disk)," \
         "luks $luks_nvme ($luks_disk), md $md_nvme ($md_disk)"

    # The guest's own filesystems: its root comes over 9p (tag hostroot), the work dir too.
    local root9p="" work9p="" v
    for v in /sys/bus/virtio/devices/*; do
        case $(tr -d '\0' < "$v/mount_tag" 2>/dev/null) in
            hostroot) root9p=$(basename "$(dirname "$(readlink -f "$v")")") ;;
            work) work9p=$(basename "$(dirname "$(readlink -f "$v")")") ;;
        esac
    done
    refused "the 9p device carrying the guest's root filesystem" "$root9p" virtio-pci \
        "9p filesystem mounted on /run/vm/hostroot (tag hostroot)"
    refused "the 9p device carrying the work dir" "$work9p" virtio-pci "9p filesystem mounted on $work (tag work)"

    # A PCIe root port as the named device; vfio-pci cannot drive it even when forced.
    refused "the PCIe root port $port above the swap drive" "$port" pcieport \
        "it is a PCI bridge; devices below it would lose hotplug and error reporting"
    ctl root attach --force "$port"
    check "[in use] attach --force of the root port is refused even to root (status $ctl_rc): vfio-pci drives no bridge" \
        forced_bridge_refused "$port"

    # Active swap.
    mkswap -q "$swap_disk" && swapon "$swap_disk"
    refused "an NVMe drive that is active swap" "$swap_nvme" nvme "it holds the swap area $swap_disk"
    check "[in use] ... and the swap area is still active" grep -q "^$swap_disk " /proc/swaps
    swapoff "$swap_disk"

    # A mount only another, living mount namespace has (a container's, a service's).
    mkfs.ext4 -q -F "$swap_disk" && mkdir -p /mnt/ns
    unshare --mount --propagation private sh -c "mount $swap_disk /mnt/ns && echo data > /mnt/ns/f && exec sleep 600" &
    pid=$!
    wait_for 20 grep -q "$swap_disk" "/proc/$pid/mountinfo"
    ! grep -q "$swap_disk" /proc/self/mountinfo
    check "[in use] the ext4 on $swap_disk is mounted in the namespace of process $pid only" test $? -eq 0
    refused "a drive mounted in another mount namespace only" "$swap_nvme" nvme \
        "ext4 filesystem mounted on /mnt/ns in the mount namespace of process $pid (sleep)"
    kill "$pid"; wait "$pid" 2>/dev/null
    round_trip "the drive that was mounted in another namespace" "$swap_nvme" nvme

    # A mounted btrfs, with data on it.
    mkfs.btrfs -q -f "$btrfs_disk" >/dev/null 2>&1 && mkdir -p /mnt/btrfs && mount "$btrfs_disk" /mnt/btrfs &&
        echo "btrfs data" > /mnt/btrfs/file && sync
    refused "an NVMe drive holding a mounted btrfs" "$btrfs_nvme" nvme "btrfs filesystem mounted on /mnt/btrfs"
    check "[in use] ... and the btrfs data is still readable" grep -q "btrfs data" /mnt/btrfs/file
    umount /mnt/btrfs

    # An open LUKS mapping, not mounted.
    head -c 32 /dev/urandom > "$key"
    cryptsetup luksFormat -q --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 "$luks_disk" "$key" &&
        cryptsetup open --key-file "$key" "$luks_disk" cryptdata && echo "luks data" | dd of=/dev/mapper/cryptdata status=none
    out=$(basename "$(readlink -f /dev/mapper/cryptdata)")
    refused "an NVMe drive under an open LUKS mapping" "$luks_nvme" nvme "$out (cryptdata) is built on its block device ${luks_disk#/dev/}"
    check "[in use] ... and the mapping still reads back its data" bash -c "head -c 9 /dev/mapper/cryptdata | grep -q 'luks data'"
    cryptsetup close cryptdata

    # A program that has the disk open (a VM using it directly, say).
    python3 -c 'import os, sys, time; fd = os.open(sys.argv[1], os.O_RDONLY); time.sleep(600)' "$luks_disk" &
    pid=$!
    wait_for 20 bash -c "ls -l /proc/$pid/fd | grep -q ${luks_disk#/dev/}"
    refused "an NVMe drive a program has open" "$luks_nvme" nvme "process $pid (python3) has its block device $luks_disk open"
    kill "$pid"; wait "$pid" 2>/dev/null
    round_trip "the LUKS drive" "$luks_nvme" nvme
    cryptsetup open --key-file "$key" "$luks_disk" cryptdata
    check "[in use] ... after which the LUKS volume opens and reads back its data" \
        bash -c "head -c 9 /dev/mapper/cryptdata | grep -q 'luks data'"
    cryptsetup close cryptdata

    # An assembled md array (degraded RAID 1 on one drive).
    # (The guest has no mdadm udev rules, so no /dev/md/NAME link: the kernel names it.)
    mdadm --create /dev/md/vfpt --run --quiet --level=1 --raid-devices=2 --metadata=1.2 "$md_disk" missing
    out=$(ls "/sys/class/block/${md_disk#/dev/}/holders")
    refused "an NVMe drive in an assembled md array" "$md_nvme" nvme "$out (raid1) is built on its block device ${md_disk#/dev/}"
    check "[in use] ... and the array $out is still active" grep -q "^$out : active" /proc/mdstat
    mdadm --stop --quiet "/dev/$out" && mdadm --zero-superblock --quiet "$md_disk"
    check "[in use] the array is stopped: nothing is built on $md_disk" test -z "$(ls "/sys/class/block/${md_disk#/dev/}/holders")"

    # A mount in a namespace no process is in, kept alive by a bind mount of its ns file: no
    # mount table shows it; only the exclusive-open probe can tell.
    mkfs.ext4 -q -F "$md_disk" && mkdir -p /run/mntns /mnt/hidden && mount --bind /run/mntns /run/mntns &&
        mount --make-private /run/mntns && touch /run/mntns/held &&
        unshare --mount=/run/mntns/held mount "$md_disk" /mnt/hidden
    check "[in use] $md_disk is mounted in a namespace no process is in (status $?), and no mount table shows it" \
        hidden_mount_only "$md_disk"
    # show cannot know: the probe runs only before an operation, since even a probe that holds the
    # device for an instant could make someone's mount fail.
    refused "an NVMe drive held exclusively by a hidden mount" "$md_nvme" nvme \
        "its block device $md_disk is held open exclusively" "Host use:         none"
    # FORCE: nothing the guest needs is on it.  Root may force; the vfio user may not.
    ctl "$user" attach --force "$md_nvme"
    check "[in use] $user may not force (status $ctl_rc, polkit's force action is admin-only)" test "$ctl_rc" -eq 3
    ctl root attach --force "$md_nvme"
    check "[in use] root forces the attach of the exclusively held drive: status $ctl_rc, on $(driver_of "$md_nvme")" \
        test "$ctl_rc" -eq 0 -a "$(driver_of "$md_nvme")" = vfio-pci
    ctl root restore "$md_nvme"
    wait_for 10 still_host "$md_nvme" nvme
    check "[in use] ... and restore gives it back to nvme (status $ctl_rc)" still_host "$md_nvme" nvme
    nsenter --mount=/run/mntns/held umount /mnt/hidden 2>/dev/null
    umount /run/mntns/held /run/mntns 2>/dev/null
}
