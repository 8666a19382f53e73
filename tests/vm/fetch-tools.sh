#!/bin/bash
# fetch-tools.sh [CACHE_BASE] — the storage tools the guest needs to make what the host uses:
# mkfs.btrfs, cryptsetup, mdadm, dmsetup; and the peers the benchmark compares with, driverctl
# and dpdk-devbind.py.  They are not installed on this machine (their packages' scripts would
# scan and set up this machine's disks, or add udev rules for its devices); `apt-get download` fetches
# them, `dpkg -x` unpacks them into CACHE_BASE/guest-tools, and the guest runs them from there
# with PATH and LD_LIBRARY_PATH pointing in.
#
# CACHE_BASE defaults to ${XDG_CACHE_HOME:-$HOME/.cache}/vfio-passthrough.  Prints the tools
# directory on stdout (the only stdout output); its env.sh sets PATH and LD_LIBRARY_PATH.
# Idempotent: a complete directory for the same package list is reused without apt.
set -euo pipefail

base=${1:-${VFIO_VM_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vfio-passthrough}}
dir=$base/guest-tools
log() { echo "fetch-tools: $*" >&2; }

# The tools and the libraries they need beyond a Debian 12 system with systemd: each package's
# shared libraries are checked with ldd below, so a missing one fails here, not in the guest.
packages=(
    btrfs-progs liblzo2-2
    cryptsetup-bin libpopt0 libcryptsetup12 libargon2-1 libjson-c5 libdevmapper1.02.1
    mdadm
    dmsetup
    driverctl dpdk
)
binaries=(sbin/mkfs.btrfs sbin/cryptsetup sbin/mdadm sbin/dmsetup sbin/driverctl bin/dpdk-devbind.py)
wanted="${packages[*]}"

if [[ -f $dir/.complete && $(cat "$dir/packages" 2>/dev/null) == "$wanted" ]]; then
    echo "$dir"
    exit 0
fi

log "fetching ${packages[*]}"
mkdir -p "$base"
tmp=$(mktemp -d "$base/.tools.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
aptopts=(-q)
[[ $(id -u) -ne 0 ]] || aptopts+=(-o APT::Sandbox::User=root)
if ! (cd "$tmp" && apt-get download "${aptopts[@]}" "${packages[@]}" >&2); then
    log "running apt-get update"
    apt-get update -qq >&2
    (cd "$tmp" && apt-get download "${aptopts[@]}" "${packages[@]}" >&2)
fi
mkdir -p "$tmp/root"
for deb in "$tmp"/*.deb; do
    dpkg -x "$deb" "$tmp/root"
done

# Merged /usr: the packages put some programs in /sbin, some in /usr/sbin.
cat > "$tmp/root/env.sh" <<EOF
# Sourced in the guest: the unpacked storage tools first on PATH.
export PATH=$dir/sbin:$dir/usr/sbin:$dir/usr/bin:\$PATH
export LD_LIBRARY_PATH=$dir/lib/x86_64-linux-gnu:$dir/usr/lib/x86_64-linux-gnu\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}
EOF
libs=$tmp/root/lib/x86_64-linux-gnu:$tmp/root/usr/lib/x86_64-linux-gnu
for b in "${binaries[@]}"; do
    path=$tmp/root/$b
    [[ -x $path ]] || path=$tmp/root/usr/$b
    [[ -x $path ]] || { log "no $b in the unpacked packages"; exit 1; }
    if missing=$(LD_LIBRARY_PATH=$libs ldd "$path" 2>/dev/null | grep 'not found'); then
        log "$b needs libraries that are neither installed nor fetched: $missing"
        exit 1
    fi
done
echo "$wanted" > "$tmp/root/packages"
touch "$tmp/root/.complete"
rm -rf "$dir"
mv "$tmp/root" "$dir"
log "ready: $dir"
echo "$dir"
