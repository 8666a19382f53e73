#!/bin/bash
# test-completion.sh BASH_SCRIPT [ZSH_SCRIPT FISH_SCRIPT] — runs the bash completion function as
# bash would (COMP_WORDS, COMP_CWORD, COMP_LINE, COMP_POINT) and checks what it offers for verbs,
# options and user names; the zsh and fish scripts get a syntax check where those shells exist.
# Addresses need the daemon: test-completion.c completes them against the real one. TAP on stdout.
set -uo pipefail
bash_script=${1:?usage: test-completion.sh BASH_SCRIPT [ZSH_SCRIPT FISH_SCRIPT]}
zsh_script=${2:-}
fish_script=${3:-}

# shellcheck source=/dev/null
source "$bash_script" || { echo "Bail out! cannot source $bash_script"; exit 1; }

# Never reach a real daemon from here: a client found on PATH would fail to connect.
export DBUS_SYSTEM_BUS_ADDRESS=unix:path=/nonexistent/vfio-passthrough-test-bus

n=0
failed=0

# complete LINE: what the function offers with the cursor at the end of LINE, sorted, one a line.
complete_line() {
    local line=$1
    COMP_LINE=$line
    COMP_POINT=${#line}
    # As bash splits it: at blanks and at the characters of COMP_WORDBREAKS such as ':'.
    read -ra COMP_WORDS <<<"$line"
    [[ $line == *' ' ]] && COMP_WORDS+=('')
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMPREPLY=()
    _vfio_passthroughctl vfio-passthroughctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]:-}"
    printf '%s\n' "${COMPREPLY[@]}" | sort
}

ok() {
    n=$((n + 1))
    echo "ok $n - $1"
}

not_ok() {
    n=$((n + 1))
    failed=$((failed + 1))
    echo "not ok $n - $1"
}

# expect NAME LINE WORD... : the offers for LINE are exactly WORDs.
expect() {
    local name=$1 line=$2 got want
    shift 2
    got=$(complete_line "$line")
    want=$( (($#)) && printf '%s\n' "$@" | sort)
    if [[ $got == "$want" ]]; then
        ok "$name"
    else
        not_ok "$name"
        echo "# line: '$line'"
        echo "# want: $(tr '\n' ' ' <<<"$want")"
        echo "# got:  $(tr '\n' ' ' <<<"$got")"
    fi
}

# expect_has NAME LINE WORD... / expect_lacks: each WORD is among the offers, or none is.
expect_has() {
    local name=$1 line=$2 got w missing=()
    shift 2
    got=$(complete_line "$line")
    for w; do grep -qxF -- "$w" <<<"$got" || missing+=("$w"); done
    if ((${#missing[@]} == 0)); then
        ok "$name"
    else
        not_ok "$name"
        echo "# line: '$line'; missing: ${missing[*]}; got: $(tr '\n' ' ' <<<"$got")"
    fi
}

expect_lacks() {
    local name=$1 line=$2 got w present=()
    shift 2
    got=$(complete_line "$line")
    for w; do grep -qxF -- "$w" <<<"$got" && present+=("$w"); done
    if ((${#present[@]} == 0)); then
        ok "$name"
    else
        not_ok "$name"
        echo "# line: '$line'; offered: ${present[*]}"
    fi
}

all_verbs=(list show detach attach restore grant forget monitor)
global_options=(-h --help --version --json --no-ask-password --no-pager -q --quiet)

expect "all verbs for an empty command" "vfio-passthroughctl " "${all_verbs[@]}"
expect "verbs from a prefix: d" "vfio-passthroughctl d" detach
expect "verbs from a prefix: re" "vfio-passthroughctl re" restore
expect "verbs from a prefix: s" "vfio-passthroughctl s" show
expect "no verb for a prefix nothing has" "vfio-passthroughctl x"
expect "verbs after a global option" "vfio-passthroughctl --json m" monitor
expect "global options before the verb" "vfio-passthroughctl -" "${global_options[@]}"
expect "global options from a prefix" "vfio-passthroughctl --no-" --no-ask-password --no-pager
expect "the long options from --" "vfio-passthroughctl --" \
    --help --version --json --no-ask-password --no-pager --quiet
expect "detach offers --force and --group" "vfio-passthroughctl detach --" \
    --help --version --json --no-ask-password --no-pager --quiet --force --group
expect "attach offers --force and --group" "vfio-passthroughctl attach 59:00.0 --" \
    --help --version --json --no-ask-password --no-pager --quiet --force --group
expect "restore offers --group, not --force" "vfio-passthroughctl restore --" \
    --help --version --json --no-ask-password --no-pager --quiet --group
expect "show offers neither --force nor --group" "vfio-passthroughctl show 0000:59:00.0 --" \
    --help --version --json --no-ask-password --no-pager --quiet
expect "a verb's options from a prefix" "vfio-passthroughctl --json detach --f" --force
expect_lacks "list takes no command options" "vfio-passthroughctl list --" --force --group
expect "nothing after list" "vfio-passthroughctl list "
expect "nothing after grant's user" "vfio-passthroughctl grant 59:00.0 root "

# User names: grant's second argument, the accounts this machine has (compgen -u).
mapfile -t r_users < <(compgen -u -- r | sort -u)
expect_has "grant's user from a prefix" "vfio-passthroughctl grant 0000:59:00.0 ro" root
got=$(complete_line "vfio-passthroughctl grant 0000:59:00.0 ro")
if [[ -n $got ]] && ! grep -qv '^ro' <<<"$got"; then
    ok "grant's user offers only names with the prefix"
else
    not_ok "grant's user offers only names with the prefix"
    echo "# got: $(tr '\n' ' ' <<<"$got")"
fi
expect_has "grant's user after options and a short address" "vfio-passthroughctl --json grant 59:00.0 r" \
    "${r_users[@]}"
expect_lacks "no users in the address position" "vfio-passthroughctl grant ro" root
expect_has "a wrapper before the command" "sudo vfio-passthroughctl grant 59:00.0 ro" root

# Without a daemon, an address position offers nothing (and prints nothing).
err=$(complete_line "vfio-passthroughctl show 59:" 2>&1 >/dev/null)
got=$(complete_line "vfio-passthroughctl show 59:" 2>/dev/null)
if [[ -z $got && -z $err ]]; then
    ok "no addresses and no noise without a daemon"
else
    not_ok "no addresses and no noise without a daemon"
    echo "# got: '$got'; stderr: '$err'"
fi

# zsh and fish: the scripts parse.
for shell_script in "zsh:$zsh_script" "fish:$fish_script"; do
    shell=${shell_script%%:*}
    script=${shell_script#*:}
    if [[ -z $script ]]; then
        ok "$shell -n # SKIP no script given"
    elif ! command -v "$shell" >/dev/null; then
        ok "$shell -n $script # SKIP $shell is not installed"
    elif out=$("$shell" -n "$script" 2>&1); then
        ok "$shell -n $script"
    else
        not_ok "$shell -n $script"
        sed 's/^/# /' <<<"$out"
    fi
done

echo "1..$n"
exit $((failed > 0))
