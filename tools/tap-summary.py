#!/usr/bin/python3
"""Counts the TAP results meson recorded and prints the one summary line CI reads.

meson's own summary counts test programs; this counts the test cases inside them, so a program
with forty cases and one failure reads as 39 passed, 1 failed rather than 0 passed, 1 failed.
A program that crashed before printing a plan, or exited non-zero, counts as one failure more.
"""
import json
import re
import sys

passed = failed = skipped = 0
for path in sys.argv[1:]:
    with open(path, encoding="utf-8") as log:
        for line in log:
            test = json.loads(line)
            results = test.get("stdout", "") or ""
            case_failed = 0
            planned = False
            for row in results.splitlines():
                if re.match(r"^1\.\.\d+", row):
                    planned = True
                m = re.match(r"^(not ok|ok)\b.*?(#\s*(SKIP|TODO)\b)?", row, re.IGNORECASE)
                if not m:
                    continue
                if m.group(3):
                    skipped += 1
                elif m.group(1) == "ok":
                    passed += 1
                else:
                    failed += 1
                    case_failed += 1
            ok_result = test.get("result") in ("OK", "EXPECTEDFAIL", "SKIP")
            if not ok_result and case_failed == 0:
                # Crashed, timed out or bailed out without a 'not ok' line of its own.
                failed += 1
                print(f"{test.get('name')}: {test.get('result')} (planned={planned})", file=sys.stderr)

print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed else 0)
