#!/usr/bin/python3
"""Counts the TAP results of a test run and prints the one summary line CI reads.

meson's own summary counts test programs; this counts the test cases inside them, so a program
with forty cases and one failure reads as 39 passed, 1 failed rather than 0 passed, 1 failed.
A program that crashed, timed out or bailed out without a 'not ok' line of its own counts as
one failure more. Arguments are meson JSON logs or plain .tap files.
"""
import json
import re
import sys

TAP_RESULT = re.compile(r"^(not ok|ok)\b.*?(#\s*(SKIP|TODO)\b)?", re.IGNORECASE)


def test_programs(path):
    """Yields (name, result, TAP text) for each test program a log records."""
    with open(path, encoding="utf-8") as log:
        if path.endswith(".tap"):
            text = log.read()
            yield path, ("FAIL" if re.search(r"^not ok", text, re.M) else "OK"), text
            return
        for line in log:
            test = json.loads(line)
            yield test.get("name"), test.get("result"), test.get("stdout") or ""


def main():
    passed = failed = skipped = 0
    for path in sys.argv[1:]:
        for name, result, tap in test_programs(path):
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
            if result not in ("OK", "EXPECTEDFAIL", "SKIP") and program_failures == 0:
                failed += 1
                print(f"{name}: {result}", file=sys.stderr)
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
