# bash completion for vfio-passthroughctl                                  -*- shell-script -*-
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Self-contained: it needs no function of the bash-completion package, so it also works when
# sourced on its own (and the tests source it so).

__vfio_passthroughctl_global_options='-h --help --version --json --no-ask-password --no-pager -q --quiet'

# The command options each verb takes, as client/main.c's verb table has them.
__vfio_passthroughctl_verb_options() {
    case $1 in
    detach | attach) echo '--force --group' ;;
    restore) echo '--group' ;;
    esac
}

# The addresses the service knows, one a line, from "list --json" without asking for a password.
# The client writes each key of a device as '"address": "0000:59:00.0"' (one per line when
# indented); grep -o finds the pair in indented and compact JSON alike. A string value cannot fake
# one: its quotes would be escaped.
__vfio_passthroughctl_addresses() {
    command vfio-passthroughctl --no-ask-password --json list 2>/dev/null |
        command grep -o '"address": *"[0-9A-Fa-f:.]*"' |
        command sed 's/.*"\([^"]*\)"$/\1/'
}

# Addresses matching what has been typed: a full address when it begins with it; otherwise, for
# domain 0000, the short form BUS:SLOT.FUNCTION the client accepts too, when that begins with it
# (59: offers 59:00.0 and 59:00.1, 0000:59: offers the full addresses).
__vfio_passthroughctl_matching_addresses() {
    local cur=$1 address short
    while read -r address; do
        [[ -n $address ]] || continue
        if [[ $address == "$cur"* ]]; then
            echo "$address"
        elif [[ -n $cur && $address == 0000:* ]]; then
            short=${address#0000:}
            [[ $short == "$cur"* ]] && echo "$short"
        fi
    done < <(__vfio_passthroughctl_addresses)
}

_vfio_passthroughctl() {
    # Words from the line itself rather than COMP_WORDS: with ':' in COMP_WORDBREAKS (the
    # default) bash splits 0000:59:00.0 into five words.
    local line=${COMP_LINE:0:COMP_POINT} IFS=$' \t\n'
    local -a words
    local cur='' verb='' word candidates
    local -i n_args=0 i start=1

    read -ra words <<<"$line"
    if [[ -n $line && $line != *[[:space:]] && ${#words[@]} -gt 0 ]]; then
        cur=${words[-1]}
        unset 'words[-1]'
    fi

    # The command is words[0], unless a wrapper such as sudo came first. Options may come before
    # or after the verb.
    for ((i = 0; i < ${#words[@]}; i++)); do
        if [[ ${words[i]##*/} == vfio-passthroughctl ]]; then
            start=$((i + 1))
            break
        fi
    done
    for ((i = start; i < ${#words[@]}; i++)); do
        word=${words[i]}
        [[ $word == -* ]] && continue
        if [[ -z $verb ]]; then
            verb=$word
        else
            n_args+=1
        fi
    done

    COMPREPLY=()
    if [[ $cur == -* ]]; then
        candidates="$__vfio_passthroughctl_global_options"
        [[ -n $verb ]] && candidates+=" $(__vfio_passthroughctl_verb_options "$verb")"
        mapfile -t COMPREPLY < <(compgen -W "$candidates" -- "$cur")
    elif [[ -z $verb ]]; then
        mapfile -t COMPREPLY < <(compgen -W 'list show detach attach restore grant forget monitor' -- "$cur")
    else
        case $verb:$n_args in
        show:0 | detach:0 | attach:0 | restore:0 | grant:0 | forget:0)
            mapfile -t COMPREPLY < <(__vfio_passthroughctl_matching_addresses "$cur")
            ;;
        grant:1)
            mapfile -t COMPREPLY < <(compgen -u -- "$cur")
            ;;
        esac
    fi

    # Bash replaces only the part of the word after its last ':', so the replies must not
    # repeat what comes before it.
    if [[ $cur == *:* && $COMP_WORDBREAKS == *:* ]]; then
        local colon_prefix=${cur%"${cur##*:}"}
        for i in "${!COMPREPLY[@]}"; do
            COMPREPLY[i]=${COMPREPLY[i]#"$colon_prefix"}
        done
    fi
    return 0
}

complete -F _vfio_passthroughctl vfio-passthroughctl
