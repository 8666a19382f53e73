#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Writes the man page org.vfio.Passthrough1(5) from the shipped interface XML and polkit policy.

    dbus-interface-man.py --interface XML --policy POLICY --version V [--datadir DIR] --output PAGE

The XML is the one source: its opening comment becomes the prose sections (its paragraphs and its
indented two-column tables), each interface a section with a synopsis and every method, argument,
signal and property with its org.gtk.GDBus.DocString. The policy gives the polkit actions. Nothing
read is left out: a paragraph of the comment whose first words the generator does not know stays
in the section before it. tests/check-dbus-interface-man.py checks the page against the XML, the
error names of include/ and the policy. Python's standard library only: it runs at build time.
"""

import argparse
import re
import sys
import xml.etree.ElementTree as ET

DOC = 'org.gtk.GDBus.DocString'
EMITS = 'org.freedesktop.DBus.Property.EmitsChangedSignal'

# Where each interface lives and the heading of its section; an interface not named here still
# gets a section of its own.
OBJECTS = {
    'org.vfio.Passthrough1': ('THE MANAGER OBJECT', '/org/vfio/Passthrough1'),
    'org.vfio.Passthrough1.Device': ('DEVICE OBJECTS', '/org/vfio/Passthrough1/devices/0000_59_00_0'),
    'org.vfio.Passthrough1.Group': ('GROUP OBJECTS', '/org/vfio/Passthrough1/groups/6'),
}

# The comment's paragraphs that open a section, by their first words.
COMMENT_SECTIONS = [
    ('Served by', 'DESCRIPTION'),
    ('A device is described', 'DEVICE DICTIONARIES'),
    ('Flags', 'FLAGS'),
    ('Privileged methods', 'AUTHORIZATION'),
    ('The sysfs work', 'OPERATIONS'),
    ('Error messages', 'ERRORS'),
]

# The standard interfaces the daemon's objects have besides their own (the D-Bus specification
# defines them); the manager is also the ObjectManager.
STANDARD_INTERFACES = {
    'org.freedesktop.DBus.ObjectManager': (
        ['GetManagedObjects(out a{oa{sa{sv}}} objects);'],
        ['InterfacesAdded(o object_path,', '                a{sa{sv}} interfaces_and_properties);',
         'InterfacesRemoved(o object_path,', '                  as interfaces);']),
    'org.freedesktop.DBus.Properties': (
        ['Get(in  s interface_name,', '    in  s property_name,', '    out v value);',
         'GetAll(in  s interface_name,', '       out a{sv} props);'],
        ['PropertiesChanged(s interface_name,', '                  a{sv} changed_properties,',
         '                  as invalidated_properties);']),
    'org.freedesktop.DBus.Introspectable': (['Introspect(out s xml_data);'], []),
    'org.freedesktop.DBus.Peer': (['Ping();', 'GetMachineId(out s machine_uuid);'], []),
}

EXAMPLES = [
    ('Every object the daemon serves:',
     ['busctl tree org.vfio.Passthrough1']),
    ('The members of a Device object, with their current values:',
     ['busctl introspect org.vfio.Passthrough1 \\',
      '        /org/vfio/Passthrough1/devices/0000_59_00_0']),
    ('One property:',
     ['$ busctl get-property org.vfio.Passthrough1 \\',
      '        /org/vfio/Passthrough1/devices/0000_59_00_0 \\',
      '        org.vfio.Passthrough1.Device HostUse',
      's ""']),
    ('Everything at once, as an app starts (JSON for scripts):',
     ['busctl --json=pretty call org.vfio.Passthrough1 /org/vfio/Passthrough1 \\',
      '        org.freedesktop.DBus.ObjectManager GetManagedObjects']),
    ('Hand a function and the rest of its IOMMU group to vfio-pci, through its object '
     '(the options dictionary holds one entry, "group" = true):',
     ['$ busctl call org.vfio.Passthrough1 /org/vfio/Passthrough1/devices/0000_59_00_0 \\',
      "        org.vfio.Passthrough1.Device Attach 'a{sv}' 1 group b true",
      'obao "/org/vfio/Passthrough1/groups/6" true 1 "/org/vfio/Passthrough1/devices/0000_59_00_0"']),
    ('Give its VFIO nodes to the caller, then give it back:',
     ['busctl call org.vfio.Passthrough1 /org/vfio/Passthrough1/devices/0000_59_00_0 \\',
      "        org.vfio.Passthrough1.Device Grant 'a{sv}' 0",
      'busctl call org.vfio.Passthrough1 /org/vfio/Passthrough1/devices/0000_59_00_0 \\',
      "        org.vfio.Passthrough1.Device Restore 'a{sv}' 1 group b true"]),
    ('The same through the manager, by address, with flags (0x2 is GROUP):',
     ['busctl call org.vfio.Passthrough1 /org/vfio/Passthrough1 \\',
      '        org.vfio.Passthrough1 DescribeDevice s 59:00.0',
      'busctl call org.vfio.Passthrough1 /org/vfio/Passthrough1 \\',
      '        org.vfio.Passthrough1 Attach st 59:00.0 2',
      'busctl call org.vfio.Passthrough1 /org/vfio/Passthrough1 \\',
      '        org.vfio.Passthrough1 Restore st 59:00.0 2']),
    ('Follow every change, whoever makes it:',
     ['busctl monitor org.vfio.Passthrough1']),
]

SEE_ALSO = ['vfio-passthroughd(8)', 'vfio-passthroughctl(1)', 'busctl(1)', 'gdbus(1)',
            'dbus-daemon(1)', 'polkit(8)', 'pkttyagent(1)']


def roff_text(text):
    """Escapes text for a roff text line; characters beyond ASCII become \\[uXXXX]."""
    text = text.replace('\\', '\\e')
    text = ''.join(c if ord(c) < 128 else '\\[u%04X]' % ord(c) for c in text)
    return text


def roff_lines(text):
    """Text as roff input lines: no line may start with a control character."""
    out = []
    for line in roff_text(text).split('\n'):
        if line.startswith(('.', "'")):
            line = '\\&' + line
        out.append(line)
    return '\n'.join(out)


def literal(text):
    """A name or a piece of code, where '-' is a minus sign rather than a hyphen."""
    return roff_text(text).replace('-', '\\-')


def bold(text):
    return '\\fB' + literal(text) + '\\fR'


def italic(text):
    return '\\fI' + literal(text) + '\\fR'


def annotation(element, name):
    for a in element.findall('annotation'):
        if a.get('name') == name:
            return a.get('value')
    return None


def doc(element):
    return annotation(element, DOC) or ''


# ------------------------------------------------------------------ the XML's opening comment

class Paragraph:
    def __init__(self, text):
        self.text = text


class Row:
    """A line of an indented table: term, an optional short qualifier (a type, a flag name), text."""

    def __init__(self, term, qualifier, text, prefix):
        self.term, self.qualifier, self.text, self.prefix = term, qualifier, text, prefix


def opening_comment(xml_text):
    match = re.search(r'<!--(.*?)-->', xml_text, re.S)
    if not match or match.start() > xml_text.find('<node'):
        sys.exit('dbus-interface-man.py: the interface XML has no comment before <node>')
    return match.group(1)


def parse_comment(comment):
    """Splits the comment into paragraphs (at the base indent) and table rows (indented deeper;
    lines indented deeper still continue the row)."""
    lines = [line.rstrip() for line in comment.split('\n')]
    while lines and not lines[0].strip():
        lines.pop(0)
    base = min(len(line) - len(line.lstrip()) for line in lines if line.strip())
    blocks = []
    prefix = ''
    in_paragraph = False
    for line in lines:
        if not line.strip():
            in_paragraph = False
            continue
        indent = len(line) - len(line.lstrip()) - base
        text = line.strip()
        if indent == 0:
            if in_paragraph:
                blocks[-1].text += ' ' + text
            else:
                blocks.append(Paragraph(text))
                in_paragraph = True
            continue
        in_paragraph = False
        if blocks and isinstance(blocks[-1], Row) and indent > row_indent:
            blocks[-1].text += ' ' + text
            continue
        if blocks and isinstance(blocks[-1], Paragraph):
            # "Errors (org.vfio.Passthrough1.Error.*):" names the prefix of the rows below it.
            m = re.search(r'\(([\w.]+\.)\*\)', blocks[-1].text)
            prefix = m.group(1) if m else ''
        row_indent = indent
        cols = re.split(r'\s{2,}', text, maxsplit=2)
        if len(cols) == 3 and ' ' not in cols[1] and len(cols[1]) <= 8:
            blocks.append(Row(cols[0], cols[1], cols[2], prefix))
        elif len(cols) >= 2:
            blocks.append(Row(cols[0], '', '  '.join(cols[1:]), prefix))
        else:
            blocks.append(Row(cols[0], '', '', prefix))
    return blocks


def comment_sections(blocks):
    """The NAME line, and the blocks of each section, in the comment's order."""
    first = blocks.pop(0)
    if not isinstance(first, Paragraph) or ' \u2014 ' not in first.text:
        sys.exit('dbus-interface-man.py: the comment must start with "NAME \u2014 what it is"')
    name, purpose = first.text.split(' \u2014 ', 1)
    sections = {}
    current = 'DESCRIPTION'
    for block in blocks:
        if isinstance(block, Paragraph):
            for start, heading in COMMENT_SECTIONS:
                if block.text.startswith(start):
                    current = heading
        sections.setdefault(current, []).append(block)
    return name, purpose, sections


def render_blocks(blocks):
    out = []
    for block in blocks:
        if isinstance(block, Paragraph):
            out.append('.PP')
            out.append(roff_lines(block.text))
        else:
            term = bold(block.prefix + block.term if block.prefix and re.fullmatch(r'\w+', block.term)
                        else block.term)
            if block.qualifier:
                term += ' ' + italic(block.qualifier)
            out.append('.TP')
            out.append(term)
            out.append(roff_lines(block.text))
    return out


# ------------------------------------------------------------------ interfaces

def signature(name, args, with_direction, indent):
    """A member as in a synopsis: Name(in  s address, out b viable); one argument a line."""
    if not args:
        return [indent + name + '();']
    lines = []
    lead = indent + name + '('
    for i, arg in enumerate(args):
        direction = (arg.get('direction', 'in').ljust(3) + ' ') if with_direction else ''
        end = ');' if i == len(args) - 1 else ','
        lines.append((lead if i == 0 else ' ' * len(lead)) + direction + arg.get('type') + ' '
                     + arg.get('name', 'arg%d' % i) + end)
    return lines


def emits(prop, interface):
    value = annotation(prop, EMITS) or annotation(interface, EMITS) or 'true'
    return value


EMITS_TEXT = {
    'true': 'announced by PropertiesChanged',
    'invalidates': 'invalidated by PropertiesChanged (without the value)',
    'const': 'constant',
    'false': 'never announced',
}


def synopsis(path, interfaces, standard, full_standard):
    lines = ['node %s {' % path]
    for interface in interfaces:
        lines.append('  interface %s {' % interface.get('name'))
        methods = interface.findall('method')
        signals = interface.findall('signal')
        props = interface.findall('property')
        if methods:
            lines.append('    methods:')
            for m in methods:
                lines += signature(m.get('name'), m.findall('arg'), True, '      ')
        if signals:
            lines.append('    signals:')
            for s in signals:
                lines += signature(s.get('name'), s.findall('arg'), False, '      ')
        if props:
            lines.append('    properties:')
            for p in props:
                value = emits(p, interface)
                if value != 'true':
                    lines.append('      @%s("%s")' % (EMITS, value))
                access = {'read': 'readonly ', 'write': 'writeonly ', 'readwrite': ''}[p.get('access')]
                lines.append('      %s%s %s = ...;' % (access, p.get('type'), p.get('name')))
        lines.append('  };')
    for name in standard:
        if not full_standard:
            lines.append('  interface %s { ... };' % name)
            continue
        methods, signals = STANDARD_INTERFACES[name]
        lines.append('  interface %s {' % name)
        lines.append('    methods:')
        lines += ['      ' + m for m in methods]
        if signals:
            lines.append('    signals:')
            lines += ['      ' + s for s in signals]
        lines.append('  };')
    lines.append('};')
    return ['.PP', '.in +4', '.nf'] + [literal(line) for line in lines] + ['.fi', '.in']


def member_args(args, with_direction):
    out = []
    for arg in args:
        label = italic(arg.get('name', '')) + ' (' + literal(arg.get('type'))
        if with_direction:
            label += ', ' + arg.get('direction', 'in')
        label += ')'
        out += ['.TP', label, roff_lines(doc(arg))]
    return out


def interface_section(interface):
    name = interface.get('name')
    heading, path = OBJECTS.get(name, ('INTERFACE ' + name, None))
    out = ['.SH ' + heading]
    if path:
        out.append('.PP')
        out.append('The object %s has the interface %s.' % (bold(path), bold(name)))
    if doc(interface):
        out += ['.PP', roff_lines(doc(interface))]
    standard = ['org.freedesktop.DBus.Peer', 'org.freedesktop.DBus.Introspectable',
                'org.freedesktop.DBus.Properties']
    # The standard interfaces are spelt out once, on the manager.
    manager = name == 'org.vfio.Passthrough1'
    if manager:
        standard.insert(0, 'org.freedesktop.DBus.ObjectManager')
    out += synopsis(path or '/...', [interface], standard, manager)

    for kind, tag, directions in (('Methods', 'method', True), ('Signals', 'signal', False)):
        members = interface.findall(tag)
        if not members:
            continue
        out.append('.SS ' + kind)
        for m in members:
            args = m.findall('arg')
            ins = [a for a in args if a.get('direction', 'in') == 'in' or not directions]
            outs = [a for a in args if a.get('direction') == 'out' and directions]
            call = bold(m.get('name')) + '(' + ', '.join(
                literal(a.get('type')) + ' ' + italic(a.get('name', '')) for a in ins) + ')'
            if outs:
                call += ' \\(-> ' + ', '.join(
                    literal(a.get('type')) + ' ' + italic(a.get('name', '')) for a in outs)
            out += ['.TP', call, roff_lines(doc(m))]
            if args:
                out += ['.RS'] + member_args(args, directions) + ['.RE']
    props = interface.findall('property')
    if props:
        out.append('.SS Properties')
        for p in props:
            access = {'read': 'read-only', 'write': 'write-only', 'readwrite': 'read-write'}[p.get('access')]
            value = emits(p, interface)
            out += ['.TP', '%s %s (%s, %s)' % (bold(p.get('name')), literal(p.get('type')), access,
                                               EMITS_TEXT.get(value, value)),
                    roff_lines(doc(p))]
    return out


# ------------------------------------------------------------------ polkit

def policy_actions(policy_path):
    out = ['.PP', 'The polkit actions, from %s, with the defaults for any, inactive and active '
           'sessions:' % bold('org.vfio.passthrough.policy')]
    for action in ET.parse(policy_path).getroot().findall('action'):
        defaults = action.find('defaults')
        values = [defaults.findtext(k, '').strip() for k in ('allow_any', 'allow_inactive', 'allow_active')]
        out += ['.TP', bold(action.get('id')),
                roff_lines(action.findtext('description', '').strip()) + '.',
                'Defaults: %s.' % ', '.join(literal(v) for v in values)]
    return out


# ------------------------------------------------------------------ the page

def page(args):
    with open(args.interface, encoding='utf-8') as f:
        xml_text = f.read()
    root = ET.fromstring(xml_text)
    name, purpose, sections = comment_sections(parse_comment(opening_comment(xml_text)))
    interfaces = root.findall('interface')
    datadir = args.datadir.rstrip('/')

    out = ['.\\" Generated by man/dbus-interface-man.py from dbus/org.vfio.Passthrough1.xml and',
           '.\\" polkit/org.vfio.passthrough.policy; edit those, not this.',
           '.TH %s 5 "" "vfio-passthrough %s" "D-Bus Interfaces"' % (literal(name), roff_text(args.version)),
           '.SH NAME',
           '%s \\- %s' % (literal(name), roff_text(purpose)),
           '.SH INTRODUCTION',
           '.PP',
           '%s serves the D-Bus API described here on the system bus, under the name %s. The '
           'interface is also installed as %s for tools such as %s. This page is generated from '
           'that file.' % (bold('vfio-passthroughd'), bold(name),
                           italic(datadir + '/dbus-1/interfaces/' + name + '.xml'),
                           '\\fBgdbus-codegen\\fR(1)')]
    out += ['.SH DESCRIPTION'] + render_blocks(sections.pop('DESCRIPTION', []))
    for interface in interfaces:
        out += interface_section(interface)
    for _, heading in COMMENT_SECTIONS[1:]:
        blocks = sections.pop(heading, [])
        if not blocks and heading != 'AUTHORIZATION':
            continue
        out += ['.SH ' + heading] + render_blocks(blocks)
        if heading == 'AUTHORIZATION':
            out += policy_actions(args.policy)
        if heading == 'ERRORS':
            out += ['.PP',
                    'Besides these, calls are refused with the standard errors %s, %s and %s '
                    '(see AUTHORIZATION), and arguments of the wrong type with %s.'
                    % (bold('org.freedesktop.DBus.Error.AccessDenied'),
                       bold('org.freedesktop.DBus.Error.InteractiveAuthorizationRequired'),
                       bold('org.freedesktop.DBus.Error.LimitsExceeded'),
                       bold('org.freedesktop.DBus.Error.InvalidArgs'))]
    assert not sections, sections
    out += ['.SH EXAMPLES']
    for text, commands in EXAMPLES:
        out += ['.PP', roff_lines(text), '.PP', '.in +4', '.nf']
        out += [literal(c) for c in commands]
        out += ['.fi', '.in']
    out += ['.SH FILES',
            '.TP', italic(datadir + '/dbus-1/interfaces/' + name + '.xml'),
            'The interface, every member documented.',
            '.TP', italic(datadir + '/polkit-1/actions/org.vfio.passthrough.policy'),
            'The polkit actions.',
            '.SH SEE ALSO',
            ',\n'.join('.BR %s (%s)' % (literal(ref.split('(')[0]), ref.split('(')[1].rstrip(')'))
                       for ref in SEE_ALSO),
            '.PP',
            'The D-Bus specification, https://dbus.freedesktop.org/doc/dbus\\-specification.html.']
    return '\n'.join(out) + '\n'


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--interface', required=True)
    parser.add_argument('--policy', required=True)
    parser.add_argument('--version', required=True)
    parser.add_argument('--datadir', default='/usr/share')
    parser.add_argument('--output', required=True)
    args = parser.parse_args()
    text = page(args)
    with open(args.output, 'w', encoding='utf-8') as f:
        f.write(text)


if __name__ == '__main__':
    main()
