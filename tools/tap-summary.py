#!/usr/bin/python3
"""Counts the TAP results of a test run and prints the one summary line CI reads.

meson's own summary counts test programs; this counts the test cases inside them, so a program
with forty cases and one failure reads as 39 passed, 1 failed rather than 0 passed, 1 failed.
A program that crashed, timed out or bailed out without a 'not ok' line of its own counts as
one failure more. Arguments are meson JSON logs or plain .tap files.

Before the summary, each failed program's last lines are printed again: a CI log is often read
from its end, where meson's own error logs are long gone.
"""
import json
import re
import sys

TAIL_LINES = 60
NOISE = re.compile(r"^# (GLib-)?DEBUG: ")

TAP_RESULT = re.compile(r"^(not ok|ok)\b.*?(#\s*(SKIP|TODO)\b)?", re.IGNORECASE)


def test_programs(path):
    """Yields (name, result, TAP text) for each test program a log records."""
    with open(path, encoding="utf-8") as log:
        if path.endswith(".tap"):
            text = log.read()
            yield path, ("FAIL" if re.search(r"^not ok", text, re.M) else "OK"), text, ""
            return
        for line in log:
            test = json.loads(line)
            yield (test.get("name"), test.get("result"), test.get("stdout") or "",
                   test.get("stderr") or "")


def print_tail(log_path, name, result, stdout, stderr):
    """The end of a failed program's output, where the reason usually is."""
    print(f"--- {name} ({result}, from {log_path}): last lines ---")
    for title, text in (("stdout", stdout), ("stderr", stderr)):
        lines = [l for l in text.splitlines() if not NOISE.match(l)][-TAIL_LINES:]
        if lines:
            print(f"[{title}]")
            print("\n".join(lines))


def main():
    passed = failed = skipped = 0
    for path in sys.argv[1:]:
        for name, result, tap, errors in test_programs(path):
            program_failures = 0
            for row in tap.splitlines():
                m = TAP_RESULT.match(row)
                if not m:
                    continue
                if m.group(3):
                    skipped += 1
                elif m.group(1) == "ok":
                    passed += 1
                else:
                    failed += 1
                    program_failures += 1
            if result not in ("OK", "EXPECTEDFAIL", "SKIP"):
                print_tail(path, name, result, tap, errors)
                if program_failures == 0:
                    failed += 1
                    print(f"{name}: {result}")
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
