#!/bin/bash
# smoke.sh [KERNEL...] — host side of the VM smoke test.
#
# Builds vfio-check, then boots the test guest once per kernel (default:
# 6.1 and 6.12) and runs guest-smoke.sh in it.  Exit status 0 only if every
# kernel passed.  Set VERBOSE=1 to stream the guest console.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
kernels=("$@")
[[ ${#kernels[@]} -gt 0 ]] || kernels=(6.1 6.12)

work=$(mktemp -d "${TMPDIR:-/tmp}/vfio-smoke.XXXXXX")
trap 'rm -rf "$work"' EXIT
gcc -O2 -Wall -Wextra -Werror -o "$work/vfio-check" "$here/vfio-check.c"

verbose=()
[[ ${VERBOSE:-0} == 0 ]] || verbose=(--verbose)
rc=0
for k in "${kernels[@]}"; do
    echo "### kernel $k"
    start=$(date +%s)
    if "$here/run-guest.sh" "${verbose[@]}" --kernel "$k" --workdir "$work/$k" \
            "$here/guest-smoke.sh" "$work/vfio-check"; then
        # Without --verbose the console is only shown on failure: show the
        # script's own output (everything after the root came up).
        [[ ${#verbose[@]} -gt 0 ]] || sed -n '/^VM-TIMING root-ready/,$p' "$work/$k/.vm/serial.log"
        echo "### kernel $k: PASS ($(($(date +%s) - start)) s)"
    else
        echo "### kernel $k: FAIL ($(($(date +%s) - start)) s)"
        rc=1
    fi
done
exit "$rc"
