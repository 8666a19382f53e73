#!/bin/bash
# test-completion.sh BASH_SCRIPT ZSH_SCRIPT FISH_SCRIPT ZSH_DRIVER — what the completion scripts
# offer for verbs, options and user names, each asked as its shell asks: bash's function with
# COMP_WORDS, COMP_CWORD, COMP_LINE and COMP_POINT set; zsh's by pressing TAB in an interactive zsh
# on a pseudo-terminal (ZSH_DRIVER, tests/zsh-complete.zsh); fish's with complete -C. zsh and fish
# are checked where installed. Addresses need the daemon: test-completion.c completes them against
# the real one. TAP on stdout.
set -uo pipefail
bash_script=${1:?usage: test-completion.sh BASH_SCRIPT ZSH_SCRIPT FISH_SCRIPT ZSH_DRIVER}
zsh_script=${2:?}
fish_script=${3:?}
zsh_driver=${4:?}

# shellcheck source=/dev/null
source "$bash_script" || { echo "Bail out! cannot source $bash_script"; exit 1; }

# Never reach a real daemon from here: the client on PATH fails to connect instead.
export DBUS_SYSTEM_BUS_ADDRESS=unix:path=/nonexistent/vfio-passthrough-test-bus

n=0
failed=0

ok() {
    n=$((n + 1))
    echo "ok $n - $1"
}

not_ok() {
    n=$((n + 1))
    failed=$((failed + 1))
    echo "not ok $n - $1"
}

skip() {
    n=$((n + 1))
    echo "ok $n - $1 # SKIP $2"
}

# bash_offers LINE: what the function offers with the cursor at the end of LINE, one a line.
bash_offers() {
    local line=$1
    COMP_LINE=$line
    COMP_POINT=${#line}
    # As bash splits it: ':' is a word of its own with the default COMP_WORDBREAKS.
    read -ra COMP_WORDS <<<"${line//:/ : }"
    [[ $line == *' ' ]] && COMP_WORDS+=('')
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMPREPLY=()
    _vfio_passthroughctl vfio-passthroughctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]:-}"
    (( ${#COMPREPLY[@]} )) && printf '%s\n' "${COMPREPLY[@]}"
}

tmpdir=$(mktemp -d) || exit 1
trap 'rm -rf -- "$tmpdir"' EXIT

zsh_offers() {
    timeout 60 zsh -f "$zsh_driver" "$(dirname "$zsh_script")" "$1" "$tmpdir/zcompdump"
}

# fish prints each match with its description after a tab.
fish_offers() {
    local quoted
    quoted=$(sed "s/'/\\\\'/g" <<<"$1")
    # fish makes its directories under HOME even so; keep them out of the real one.
    HOME=$tmpdir XDG_CONFIG_HOME=$tmpdir/config XDG_DATA_HOME=$tmpdir/data XDG_CACHE_HOME=$tmpdir/cache \
        timeout 60 fish --no-config -c "source '$fish_script'; and complete -C '$quoted'" | cut -f1
}

shells=(bash)
for shell in zsh fish; do
    if command -v "$shell" >/dev/null; then
        shells+=("$shell")
    else
        skip "$shell completion" "$shell is not installed"
    fi
done

# The expect functions check in each shell, or in those of only_shells (a string) when it is set.
# offers SHELL LINE: sorted, one a line.
offers() {
    "$1_offers" "$2" | sort -u
}

# expect NAME LINE WORD... : in each shell, the offers for LINE are exactly WORDs.
expect() {
    local name=$1 line=$2 shell got want
    shift 2
    want=$( (($#)) && printf '%s\n' "$@" | sort -u)
    for shell in ${only_shells:-${shells[*]}}; do
        got=$(offers "$shell" "$line")
        if [[ $got == "$want" ]]; then
            ok "$shell: $name"
        else
            not_ok "$shell: $name"
            echo "# line: '$line'"
            echo "# want: $(tr '\n' ' ' <<<"$want")"
            echo "# got:  $(tr '\n' ' ' <<<"$got")"
        fi
    done
}

# expect_has NAME LINE WORD... / expect_lacks: each WORD is among the offers, or none is.
expect_has() { expect_among has "$@"; }
expect_lacks() { expect_among lacks "$@"; }

# expect_among has|lacks NAME LINE WORD...: the words that break the rule are reported.
expect_among() {
    local rule=$1 name=$2 line=$3 shell got w offered wrong
    shift 3
    for shell in ${only_shells:-${shells[*]}}; do
        got=$(offers "$shell" "$line")
        wrong=()
        for w; do
            if grep -qxF -- "$w" <<<"$got"; then offered=has; else offered=lacks; fi
            [[ $offered == "$rule" ]] || wrong+=("$w")
        done
        if ((${#wrong[@]} == 0)); then
            ok "$shell: $name"
        else
            not_ok "$shell: $name"
            echo "# line: '$line'; $([[ $rule == has ]] && echo missing || echo offered): ${wrong[*]}; got: $(tr '\n' ' ' <<<"$got")"
        fi
    done
}

all_verbs=(list show detach attach restore grant forget monitor)
global_options=(-h --help --version --json --no-ask-password --no-pager -q --quiet)
long_options=(--help --version --json --no-ask-password --no-pager --quiet)

expect "all verbs for an empty command" "vfio-passthroughctl " "${all_verbs[@]}"
expect "verbs from a prefix: d" "vfio-passthroughctl d" detach
expect "verbs from a prefix: re" "vfio-passthroughctl re" restore
expect "verbs from a prefix: s" "vfio-passthroughctl s" show
expect "no verb for a prefix nothing has" "vfio-passthroughctl x"
expect "verbs after a global option" "vfio-passthroughctl --json m" monitor
expect "global options before the verb" "vfio-passthroughctl -" "${global_options[@]}"
expect "global options from a prefix" "vfio-passthroughctl --no-" --no-ask-password --no-pager
expect "the long options from --" "vfio-passthroughctl --" "${long_options[@]}"
expect "detach offers --force and --group" "vfio-passthroughctl detach --" "${long_options[@]}" --force --group
expect "attach offers --force and --group" "vfio-passthroughctl attach 59:00.0 --" \
    "${long_options[@]}" --force --group
expect "restore offers --group, not --force" "vfio-passthroughctl restore --" "${long_options[@]}" --group
expect "show offers neither --force nor --group" "vfio-passthroughctl show 0000:59:00.0 --" "${long_options[@]}"
expect "a verb's options from a prefix" "vfio-passthroughctl --json detach --f" --force
expect_lacks "list takes no command options" "vfio-passthroughctl list --" --force --group
expect "nothing after list" "vfio-passthroughctl list "
expect "nothing after grant's user" "vfio-passthroughctl grant 59:00.0 root "

# User names: grant's second argument, the accounts this machine has.
expect_has "grant's user from a prefix" "vfio-passthroughctl grant 0000:59:00.0 ro" root
expect_has "grant's user after options and a short address" "vfio-passthroughctl --json grant 59:00.0 r" root
expect_lacks "no users in the address position" "vfio-passthroughctl grant ro" root
# bash hands a wrapper's whole line to the function; zsh and fish take the wrapper off themselves
# (fish only where sudo is installed).
only_shells=bash expect_has "a wrapper before the command" "sudo vfio-passthroughctl grant 59:00.0 ro" root

# bash offers exactly the accounts with the prefix (compgen -u).
got=$(offers bash "vfio-passthroughctl grant 0000:59:00.0 r")
want=$(compgen -u -- r | sort -u)
if [[ -n $got && $got == "$want" ]]; then
    ok "bash: grant's user offers each account with the prefix and nothing else"
else
    not_ok "bash: grant's user offers each account with the prefix and nothing else"
    echo "# want: $(tr '\n' ' ' <<<"$want")"
    echo "# got:  $(tr '\n' ' ' <<<"$got")"
fi

# Without a daemon, an address position offers nothing, and prints nothing.
for shell in "${shells[@]}"; do
    err=$(offers "$shell" "vfio-passthroughctl show 59:" 2>&1 >/dev/null)
    got=$(offers "$shell" "vfio-passthroughctl show 59:" 2>/dev/null)
    if [[ -z $got && -z $err ]]; then
        ok "$shell: no addresses and no noise without a daemon"
    else
        not_ok "$shell: no addresses and no noise without a daemon"
        echo "# got: '$got'; stderr: '$err'"
    fi
done

# The scripts parse.
for shell_script in "zsh:$zsh_script" "fish:$fish_script"; do
    shell=${shell_script%%:*}
    script=${shell_script#*:}
    if ! command -v "$shell" >/dev/null; then
        skip "$shell -n $script" "$shell is not installed"
    elif out=$("$shell" -n "$script" 2>&1); then
        ok "$shell -n $script"
    else
        not_ok "$shell -n $script"
        sed 's/^/# /' <<<"$out"
    fi
done

echo "1..$n"
exit $((failed > 0))
