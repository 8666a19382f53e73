#!/bin/bash
# fetch-kernel.sh VERSIONSPEC [CACHE_BASE]
#
# Download a Debian kernel image package with `apt-get download`, unpack it
# with `dpkg -x` into CACHE_BASE/<kernel-release>/ and run depmod over it, so
# run-guest.sh can boot it under QEMU and the guest can modprobe from it.
# Nothing is installed on this machine; the package is only unpacked.
#
# VERSIONSPEC is one of
#   6.1 | 6.12 | X.Y      newest linux-image-X.Y*-amd64 apt knows about
#   6.1.0-56-amd64        an exact kernel release (uname -r of the guest)
#   linux-image-...       an exact package name
# CACHE_BASE defaults to ${XDG_CACHE_HOME:-$HOME/.cache}/vfio-passthrough/kernels
# (outside the repository: one kernel is ~450 MB unpacked).
#
# On success the kernel directory is printed on stdout (the only stdout
# output); it holds boot/vmlinuz-<kver>, lib/modules/<kver>/ and a file
# `kver`.  Idempotent: a completed directory (marker .complete) is reused.
set -euo pipefail

usage() { echo "usage: $0 VERSIONSPEC [CACHE_BASE]" >&2; exit 2; }
[[ $# -ge 1 && $# -le 2 ]] || usage
spec=$1
base=${2:-${VFIO_VM_KERNEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vfio-passthrough/kernels}}

log() { echo "fetch-kernel: $*" >&2; }

# Fast path for an exact kernel release that is already unpacked: no apt at all.
if [[ -f $base/$spec/.complete ]]; then
    echo "$base/$spec"
    exit 0
fi

apt_updated=0
apt_update_once() {
    if [[ $apt_updated -eq 0 ]]; then
        log "running apt-get update"
        apt-get update -qq >&2
        apt_updated=1
    fi
}

# Print the candidate version of package $1 (empty if apt does not know it).
candidate() {
    apt-cache policy "$1" 2>/dev/null | awk '$1 == "Candidate:" && $2 != "(none)" { print $2 }'
}

# Resolve the spec to one package name.  Only the signed image package names
# match the patterns (no -unsigned/-dbg); the signed vmlinuz boots fine under
# QEMU's direct kernel boot.
resolve() {
    local re pkg v best="" bestv=""
    case $spec in
        linux-image-*) echo "$spec"; return ;;
        [0-9]*.[0-9]*.*-amd64) echo "linux-image-$spec"; return ;;
        [0-9]*.[0-9]*)
            # 6.1  -> linux-image-6.1.0-56-amd64
            # 6.12 -> linux-image-6.12.117+deb12-amd64 (bookworm-security ships
            #         src:linux-6.12 with this naming; backports would use the
            #         same pattern)
            re="^linux-image-${spec//./\\.}\\.[0-9]+(-[0-9]+)?(\\+deb[0-9]+)?-amd64\$" ;;
        *) log "cannot parse VERSIONSPEC '$spec'"; exit 2 ;;
    esac
    # One apt-cache policy call for all matches (one call per package is
    # slow: there are a dozen old 6.1 ABIs in bookworm's lists).
    while read -r pkg v; do
        if [[ -z $bestv ]] || dpkg --compare-versions "$v" gt "$bestv"; then
            best=$pkg bestv=$v
        fi
    done < <(apt-cache search --names-only "$re" | awk '{ print $1 }' | sort -u |
             xargs -r apt-cache policy 2>/dev/null |
             awk '/^[^ ]/ { sub(/:$/, ""); p = $0 }
                  $1 == "Candidate:" && $2 != "(none)" { print p, $2 }')
    echo "$best"
}

pkg=$(resolve)
if [[ -z $pkg || -z $(candidate "$pkg") ]]; then
    apt_update_once
    pkg=$(resolve)
fi
if [[ -z $pkg || -z $(candidate "$pkg") ]]; then
    log "no package found for '$spec' (apt sources: is the suite that ships it enabled?)"
    exit 1
fi
kver=${pkg#linux-image-}
dir=$base/$kver
if [[ -f $dir/.complete ]]; then
    echo "$dir"
    exit 0
fi

log "fetching $pkg $(candidate "$pkg") into $dir"
mkdir -p "$base"
tmp=$(mktemp -d "$base/.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# apt-get download writes into the current directory.  Its sandbox user _apt
# cannot reach a directory under root's 0700 $HOME, so when we are root let
# apt download as root instead of warning about it.
aptopts=(-q)
[[ $(id -u) -ne 0 ]] || aptopts+=(-o APT::Sandbox::User=root)
(cd "$tmp" && apt-get download "${aptopts[@]}" "$pkg" >&2) || {
    apt_update_once
    (cd "$tmp" && apt-get download "${aptopts[@]}" "$pkg" >&2)
}
deb=$(echo "$tmp"/*.deb)
[[ -f $deb ]] || { log "apt-get download produced no .deb"; exit 1; }

mkdir -p "$tmp/root"
dpkg -x "$deb" "$tmp/root"
# Debian 12 is merged-/usr, but old packages may still ship /lib/modules.
moddir=$tmp/root/lib/modules/$kver
[[ -d $moddir ]] || moddir=$tmp/root/usr/lib/modules/$kver
[[ -d $moddir && -f $tmp/root/boot/vmlinuz-$kver ]] || {
    log "unexpected package layout in $deb"; exit 1; }
if [[ $moddir == "$tmp/root/usr/lib/modules/$kver" ]]; then
    mkdir -p "$tmp/root/lib/modules"
    mv "$moddir" "$tmp/root/lib/modules/$kver"
fi
# The package ships no modules.dep: postinst normally runs depmod.
depmod -b "$tmp/root" "$kver"
[[ -s $tmp/root/lib/modules/$kver/modules.dep.bin ]] || { log "depmod failed"; exit 1; }

echo "$kver" > "$tmp/root/kver"
echo "$pkg $(dpkg-deb -f "$deb" Version)" > "$tmp/root/package"
touch "$tmp/root/.complete"
rm -rf "$dir"
mv "$tmp/root" "$dir"
log "ready: $dir"
echo "$dir"
