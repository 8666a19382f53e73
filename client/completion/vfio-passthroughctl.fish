# SPDX-License-Identifier: LGPL-2.1-or-later
# fish completion for vfio-passthroughctl.

# The words before the cursor that are not options: the verb, then its arguments.
function __vfio_passthroughctl_positionals
    for word in (commandline -opc)[2..-1]
        string match -q -- '-*' $word; or echo $word
    end
end

function __vfio_passthroughctl_no_verb
    test -z "$(__vfio_passthroughctl_positionals)"
end

# __vfio_passthroughctl_verb_is VERB...: the verb is one of these.
function __vfio_passthroughctl_verb_is
    set -l positionals (__vfio_passthroughctl_positionals)
    contains -- "$positionals[1]" $argv
end

# __vfio_passthroughctl_argument N VERB...: the word being completed is argument N (from 1) of one
# of these verbs.
function __vfio_passthroughctl_argument
    set -l positionals (__vfio_passthroughctl_positionals)
    test (count $positionals) -eq $argv[1]; and contains -- "$positionals[1]" $argv[2..-1]
end

# The addresses the service knows, from "list --json" without asking for a password (see the bash
# script for why grep on the "address" key is enough). fish also matches inside a candidate, so
# "59:" finds 0000:59:00.0.
function __vfio_passthroughctl_addresses
    command -q vfio-passthroughctl; or return
    command vfio-passthroughctl --no-ask-password --json list 2>/dev/null |
        string match -r -g '"address": *"([0-9A-Fa-f:.]*)"'
end

set -l c vfio-passthroughctl
complete -c $c -f

complete -c $c -n __vfio_passthroughctl_no_verb -a list -d 'List PCI devices with driver and IOMMU group'
complete -c $c -n __vfio_passthroughctl_no_verb -a show -d 'Show a device, its IOMMU group and VFIO use'
complete -c $c -n __vfio_passthroughctl_no_verb -a detach -d 'Unbind a device from its host driver'
complete -c $c -n __vfio_passthroughctl_no_verb -a attach -d 'Bind a device to vfio-pci for a VM'
complete -c $c -n __vfio_passthroughctl_no_verb -a restore -d 'Give a device back to its driver'
complete -c $c -n __vfio_passthroughctl_no_verb -a grant -d 'Give a user access to the /dev/vfio nodes'
complete -c $c -n __vfio_passthroughctl_no_verb -a forget -d 'Drop the service\'s record of a device'
complete -c $c -n __vfio_passthroughctl_no_verb -a monitor -d 'Print each change as it happens'

complete -c $c -s h -l help -d 'Show the help and exit'
complete -c $c -l version -d 'Show the version and exit'
complete -c $c -l json -d 'Print JSON instead of text'
complete -c $c -l no-ask-password -d 'Do not ask for a password'
complete -c $c -l no-pager -d 'Do not pipe the output into a pager'
complete -c $c -s q -l quiet -d 'Print less'
complete -c $c -n '__vfio_passthroughctl_verb_is detach attach' -l force -d 'Act even though the host uses the device'
complete -c $c -n '__vfio_passthroughctl_verb_is detach attach restore' -l group \
    -d 'Also act on the rest of its IOMMU group'

complete -c $c -n '__vfio_passthroughctl_argument 1 show detach attach restore grant forget' \
    -a '(__vfio_passthroughctl_addresses)' -d 'PCI address'
complete -c $c -n '__vfio_passthroughctl_argument 2 grant' -a '(__fish_complete_users)'
