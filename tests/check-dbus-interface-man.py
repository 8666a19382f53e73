#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Checks the generated org.vfio.Passthrough1(5) against what it is generated from, and what it
must agree with, so a generator that drops something, or an error added to the code but not to
the documentation, fails the build's tests. TAP on stdout.

    check-dbus-interface-man.py PAGE INTERFACE_XML POLICY BUS_HEADER BUS_ERRORS_C

- every interface has its section, and in it every method, signal and property with each
  argument (type and name) and the documentation of each;
- every word of the XML's opening comment is on the page, in order;
- the errors of the daemon's error map (include/bus-errors.c, names from the header) are exactly
  the org.vfio.Passthrough1.Error.* names the ERRORS section documents;
- every polkit action of the policy, with its defaults; the object paths and flag values of the
  header;
- groff finds no problem with the page (-ww: all warnings), where groff is installed.
"""

import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

DOC = 'org.gtk.GDBus.DocString'

results = []


def report(ok, name, problems=()):
    results.append((ok, name, list(problems)))


def skip(name, why):
    results.append((True, '%s # SKIP %s' % (name, why), []))


def plain(roff):
    """The text of roff input, without macros, fonts and escapes; whitespace collapsed."""
    lines = []
    for line in roff.split('\n'):
        if line.startswith('.'):
            continue
        lines.append(line)
    text = ' '.join(lines)
    text = re.sub(r'\\f[BIRP]', '', text)
    text = re.sub(r'\\\[u([0-9A-F]{4})\]', lambda m: chr(int(m.group(1), 16)), text)
    text = text.replace('\\(->', '->').replace('\\-', '-').replace('\\&', '').replace('\\e', '\\')
    return ' '.join(text.split())


def sections(roff):
    """{heading: plain text} of the page's .SH sections."""
    out = {}
    heading = None
    body = []
    for line in roff.split('\n'):
        if line.startswith('.SH '):
            if heading:
                out[heading] = plain('\n'.join(body))
            heading, body = line[4:].strip().strip('"'), []
        else:
            body.append(line)
    if heading:
        out[heading] = plain('\n'.join(body))
    return out


def norm(text):
    return ' '.join(text.split())


def doc(element):
    for a in element.findall('annotation'):
        if a.get('name') == DOC:
            return a.get('value')
    return ''


def check_interface(interface, page_sections):
    name = interface.get('name')
    found = [t for t in page_sections.values() if ('interface %s {' % name) in t]
    if len(found) != 1:
        report(False, '%s: one section with its synopsis' % name,
               ['found %d sections with "interface %s {"' % (len(found), name)])
        return
    text = found[0]
    problems = []
    counts = {'method': 0, 'signal': 0, 'property': 0, 'argument': 0, 'documentation': 0}

    def need(what, why):
        if what not in text:
            problems.append('%s: "%s" is missing' % (why, what))

    def need_doc(element, why):
        if doc(element):
            counts['documentation'] += 1
            need(norm(doc(element)), why + ' documentation')

    need_doc(interface, name)
    for tag in ('method', 'signal'):
        for member in interface.findall(tag):
            counts[tag] += 1
            mname = member.get('name')
            need(mname + '(', '%s %s' % (tag, mname))
            need_doc(member, '%s %s' % (tag, mname))
            for arg in member.findall('arg'):
                counts['argument'] += 1
                need('%s %s' % (arg.get('type'), arg.get('name')),
                     '%s %s argument %s' % (tag, mname, arg.get('name')))
                need_doc(arg, '%s %s argument %s' % (tag, mname, arg.get('name')))
    for prop in interface.findall('property'):
        counts['property'] += 1
        pname = prop.get('name')
        need('%s %s' % (prop.get('type'), pname), 'property %s' % pname)
        access = {'read': 'read-only', 'write': 'write-only', 'readwrite': 'read-write'}[prop.get('access')]
        need('%s %s (%s,' % (pname, prop.get('type'), access), 'property %s access' % pname)
        need_doc(prop, 'property %s' % pname)
    summary = ', '.join('%d %s' % (n, k) for k, n in counts.items())
    report(not problems, '%s: every member, argument and documentation (%s)' % (name, summary), problems)


def check_comment(xml_text, page_text):
    """Every word of the opening comment, in order (a row's error name may carry its prefix)."""
    comment = re.search(r'<!--(.*?)-->', xml_text, re.S).group(1)
    words = [w for w in comment.split() if re.search(r'\w', w)]
    tokens = page_text.split()
    pos = 0
    for i, word in enumerate(words):
        start = pos
        while pos < len(tokens) and not (tokens[pos] == word or tokens[pos].endswith('.' + word)):
            pos += 1
        if pos == len(tokens):
            context = ' '.join(words[max(0, i - 8):i + 1])
            report(False, 'the interface comment, word for word (%d words)' % len(words),
                   ['word %d "%s" is missing after: ... %s' % (i + 1, word, context),
                    'page from there: ' + ' '.join(tokens[start:start + 20])])
            return
        pos += 1
    report(True, 'the interface comment, word for word (%d words)' % len(words))


def header_defines(header_text):
    return dict(re.findall(r'^#define (\w+) (.+?)\s*(?:/\*.*)?$', header_text, re.M))


def check_errors(header_text, errors_c_text, page_sections):
    defines = header_defines(header_text)
    prefix = defines['VFIO_PT_ERROR_PREFIX'].strip('"')
    mapped = set()
    for macro in re.findall(r'SD_BUS_ERROR_MAP\((VFIO_PT_ERROR_\w+)', errors_c_text):
        m = re.fullmatch(r'VFIO_PT_ERROR_PREFIX "(\w+)"', defines.get(macro, ''))
        if not m:
            report(False, 'error names', ['%s: no definition in the header' % macro])
            return
        mapped.add(prefix + m.group(1))
    text = page_sections.get('ERRORS', '')
    documented = set(re.findall(re.escape(prefix) + r'\w+', text))
    problems = ['%s is in include/bus-errors.c but not in ERRORS' % e for e in sorted(mapped - documented)]
    problems += ['%s is in ERRORS but not in include/bus-errors.c' % e for e in sorted(documented - mapped)]
    if not mapped:
        problems.append('no error names found in include/bus-errors.c')
    report(not problems, 'ERRORS documents exactly the %d errors of include/bus-errors.c' % len(mapped),
           problems)


def check_policy(policy_path, page_sections):
    text = page_sections.get('AUTHORIZATION', '')
    problems = []
    actions = ET.parse(policy_path).getroot().findall('action')
    for action in actions:
        d = action.find('defaults')
        defaults = ', '.join(d.findtext(k, '').strip() for k in ('allow_any', 'allow_inactive', 'allow_active'))
        entry = '%s %s. Defaults: %s.' % (action.get('id'), norm(action.findtext('description', '')), defaults)
        if entry not in text:
            problems.append('"%s" is missing from AUTHORIZATION' % entry)
    report(actions and not problems, 'AUTHORIZATION lists the %d polkit actions with their defaults'
           % len(actions), problems)


def check_paths_and_flags(header_text, page_text, page_sections):
    defines = header_defines(header_text)
    problems = []
    root = defines['VFIO_PT_OBJECT_PATH'].strip('"')
    for path in (root, root + '/devices/', root + '/groups/'):
        if path not in page_text:
            problems.append('object path %s is missing' % path)
    flags = re.findall(r'^#define VFIO_PT_FLAG_(\w+) \(UINT64_C\(1\) << (\d+)\)', header_text, re.M)
    for name, bit in flags:
        entry = '0x%x %s' % (1 << int(bit), name)
        if entry not in page_sections.get('FLAGS', ''):
            problems.append('flag "%s" is missing from FLAGS' % entry)
    if not flags:
        problems.append('no flags found in the header')
    report(not problems, 'the object paths and the %d flags of the header' % len(flags), problems)


def check_groff(page_path):
    groff = shutil.which('groff')
    if not groff:
        skip('groff -man -ww -z: no warnings', 'groff is not installed (Debian: groff-base)')
        return
    run = subprocess.run([groff, '-man', '-ww', '-z', page_path], capture_output=True, text=True)
    problems = [line for line in (run.stdout + run.stderr).split('\n') if line]
    if run.returncode != 0:
        problems.append('groff exit status %d' % run.returncode)
    report(not problems, 'groff -man -ww -z: no warnings', problems)


def main():
    if len(sys.argv) != 6:
        sys.exit(__doc__)
    page_path, xml_path, policy_path, header_path, errors_path = sys.argv[1:]
    with open(page_path, encoding='utf-8') as f:
        roff = f.read()
    with open(xml_path, encoding='utf-8') as f:
        xml_text = f.read()
    with open(header_path, encoding='utf-8') as f:
        header_text = f.read()
    with open(errors_path, encoding='utf-8') as f:
        errors_c_text = f.read()
    page_sections = sections(roff)
    page_text = plain(roff)

    for interface in ET.fromstring(xml_text).findall('interface'):
        check_interface(interface, page_sections)
    check_comment(xml_text, page_text)
    check_errors(header_text, errors_c_text, page_sections)
    check_policy(policy_path, page_sections)
    check_paths_and_flags(header_text, page_text, page_sections)
    check_groff(page_path)

    print('1..%d' % len(results))
    for i, (ok, name, problems) in enumerate(results, 1):
        print('%s %d - %s' % ('ok' if ok else 'not ok', i, name))
        for p in problems:
            print('# ' + p)
    return 0 if all(ok for ok, _, _ in results) else 1


if __name__ == '__main__':
    sys.exit(main())
