# guest-package.sh — sourced by guest-e2e.sh and guest-systemd.sh INSIDE the test guest: installs
# the project's Debian package (built on the host by tools/build-deb) with dpkg, and at the end
# purges it and checks that none of its files is left behind (issue 16).
#
# The guest's root is the host's, read-only, under a tmpfs overlay (run-guest.sh): dpkg's
# database and everything the package writes land in the overlay and vanish with the guest.
# Needs guest-lib.sh's TAP helpers and $work.

pkg=vfio-passthrough

# package_install DEB: dpkg -i, as a user's `apt install ./DEB` does once the dependencies are
# there (they are: the host has the test packages). The group vfio is deleted first (the overlay's
# /etc is a copy of the host's, which may have it), so that the package's sysusers.d file is what
# creates it. Returns non-zero when dpkg failed.
package_install() {
    local deb=$1 t rc
    t=$(date +%s.%N)
    if getent group vfio > /dev/null && ! groupdel vfio 2> "$work/groupdel.log"; then
        diag "could not delete the host's group vfio in the guest first: $(cat "$work/groupdel.log")"
    fi
    group_before=$(getent group vfio || true)
    # man-db's trigger re-indexes every manual page of the host's root, over 9p under TCG: three
    # minutes, for an index `man` does not need (man -w below finds the pages without it).
    rm -f /var/lib/man-db/auto-update
    # The host may be a container image whose policy-rc.d forbids every service action in
    # maintainer scripts (exit 101); the guest is a whole system, where none is installed.
    rm -f /usr/sbin/policy-rc.d
    dpkg -i "$deb" > "$work/dpkg-install.log" 2>&1
    rc=$?
    sed 's/^/    dpkg: /' "$work/dpkg-install.log"
    echo "dpkg -i $(basename "$deb") in $(since "$t") s, status $rc"
    check "[pkg] dpkg -i $(basename "$deb") installs the package (status $rc, $(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null))" \
        eval '[[ $rc -eq 0 && $(dpkg-query -W -f="\${Status}" "$pkg" 2>/dev/null) == "install ok installed" ]]'
    check "[pkg] postinst created the system group vfio through sysusers.d (before: '${group_before}', now: '$(getent group vfio)')" \
        eval '[[ -z $group_before && -n $(getent group vfio) && $(getent group vfio | cut -d: -f3) -lt 1000 ]]'
    check "[pkg] postinst created the state directory through tmpfiles.d ($(stat -c '%U %a' /run/vfio-passthroughd 2>&1))" \
        eval '[[ $(stat -c "%U %a" /run/vfio-passthroughd 2>/dev/null) == "root 700" ]]'
    check "[pkg] the example polkit rule is shipped under /usr/share/doc, and the package puts no rule in a rules.d" \
        eval '[[ -f /usr/share/doc/vfio-passthrough/examples/50-vfio-passthrough-group.rules.example ]] &&
              ! dpkg-query -L "$pkg" | grep -q "/rules\.d/"'
    check "[pkg] the man pages are installed (man -w vfio-passthroughctl, vfio-passthroughd, org.vfio.Passthrough1)" \
        eval 'man -w vfio-passthroughctl >/dev/null 2>&1 && man -w 8 vfio-passthroughd >/dev/null 2>&1 &&
              man -w 5 org.vfio.Passthrough1 >/dev/null 2>&1'
    # The installed bash completion, where bash-completion's loader looks for it, completes a verb.
    check "[pkg] the installed bash completion completes 'vfio-passthroughctl att' to attach" \
        eval '[[ $(bash --norc -c "source /usr/share/bash-completion/completions/vfio-passthroughctl &&
              COMP_WORDS=(vfio-passthroughctl att) COMP_CWORD=1 COMP_LINE=\"vfio-passthroughctl att\" COMP_POINT=23 &&
              _vfio_passthroughctl && echo \"\${COMPREPLY[*]}\"" 2>&1) == attach ]]'
    return "$rc"
}

# left_behind FILE...: prints each path of FILE... that still exists and is not a directory some
# other package owns or still has other files in (dpkg keeps those, rightly). A directory may be
# a symlink: with a merged /usr, the package's /lib/systemd/system is reached through /lib.
left_behind() {
    local f
    for f in "$@"; do
        [[ -e $f || -L $f ]] || continue
        if [[ -d $f ]]; then
            # dpkg-query -S reads all of dpkg's file lists (seconds each, over 9p under TCG):
            # asked only about an empty directory, which dpkg would have removed were it ours alone.
            [[ -n $(ls -A "$f") ]] && continue
            dpkg-query -S "$f" > /dev/null 2>&1 && continue
        fi
        echo "$f"
    done
}

# package_removal_tests: dpkg --purge, then no file of the package's list (dpkg -L, captured
# before) is left. Call after the daemon's work is done.
package_removal_tests() {
    local files=() list left t rc
    # No process substitution: the guest without systemd has no /dev/fd.
    list=$(dpkg-query -L "$pkg" 2>/dev/null | grep '^/' | grep -vx '/\.')
    [[ -z $list ]] || mapfile -t files <<< "$list"
    t=$(date +%s.%N)
    dpkg --purge "$pkg" > "$work/dpkg-purge.log" 2>&1
    rc=$?
    sed 's/^/    dpkg: /' "$work/dpkg-purge.log"
    echo "dpkg --purge in $(since "$t") s, status $rc; the package listed ${#files[@]} paths"
    check "[pkg] dpkg --purge $pkg succeeds (status $rc) and dpkg forgets it ($(dpkg-query -W -f='${Status}' "$pkg" 2>&1))" \
        eval '[[ $rc -eq 0 ]] && ! dpkg-query -W -f="\${Status}" "$pkg" 2>/dev/null | grep -q installed'
    left=$(left_behind "${files[@]}")
    if [[ ${#files[@]} -gt 10 && -z $left ]]; then
        pass "[pkg] nothing of the package's ${#files[@]} listed paths is left (directories other packages own or use excepted)"
    else
        flunk "[pkg] nothing of the package's ${#files[@]} listed paths is left" "left: ${left:-(the file list was empty)}"
    fi
    left=$(find /var/lib/systemd/deb-systemd-helper-enabled /var/lib/systemd/deb-systemd-helper-masked \
        -name '*vfio-passthrough*' 2>/dev/null)
    check "[pkg] no deb-systemd-helper state of the unit is left (${left:-none})" test -z "$left"
    diag "kept by design: the system group vfio ($(getent group vfio)), and the runtime state in /run/vfio-passthroughd ($(ls -A /run/vfio-passthroughd 2>/dev/null | tr '\n' ' '))"
}
