#!/usr/bin/env python3
"""Where a cold build's time goes, from cargo's --timings report.

usage: timings-summary.py <cargo-timing-*.html>

Prints the CPU-seconds of all units, the AWS SDK crates' share (aws-sdk-*, aws-smithy-*,
aws-config, aws-runtime, aws-sigv4, aws-credential-types, aws-types) and the slowest units.
On N cores the SDK alone needs at least its CPU-seconds / N of wall time.
"""
import json
import os
import re
import sys


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    html = open(sys.argv[1], encoding="utf-8").read()
    found = re.search(r"const UNIT_DATA = (\[.*?\]);\n", html, re.S)
    if not found:
        print(f"{sys.argv[1]}: no UNIT_DATA in this report", file=sys.stderr)
        return 1
    units = json.loads(found.group(1))
    total = sum(u["duration"] for u in units)
    sdk = sum(u["duration"] for u in units if u["name"].startswith("aws-"))
    cores = os.cpu_count() or 1
    print(f"units compiled: {len(units)}, CPU-seconds: {total:.0f}")
    print(
        f"AWS SDK crates: {sdk:.0f} CPU-s ({100 * sdk / max(total, 1):.0f}%), "
        f"at least {sdk / cores:.0f} s of wall time on {cores} cores"
    )
    print("slowest units (CPU-s):")
    for u in sorted(units, key=lambda u: -u["duration"])[:10]:
        print(f"  {u['duration']:6.1f}  {u['name']} {u['version']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
