"""Debugging entry: `python -m imagelab.vulns ROOTFS_DIR [--offline] [--json]` scans an unpacked root
file system and prints what the scan found, with its data's dates."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

from imagelab.vulns.rootfs import RootFS
from imagelab.vulns.scan import Scanner
from imagelab.vulns.summary import summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m imagelab.vulns", description=__doc__)
    parser.add_argument("rootfs", type=Path, help="an unpacked image (e.g. from docker export, mmdebstrap)")
    parser.add_argument("--offline", action="store_true", help="use only the data kept from earlier runs")
    parser.add_argument("--json", action="store_true", help="print the findings as JSON")
    args = parser.parse_args(argv)
    if not args.rootfs.is_dir():
        parser.error(f"{args.rootfs} is not a folder")
    findings = Scanner(offline=args.offline).scan(RootFS(args.rootfs))
    if args.json:
        print(json.dumps(asdict(findings), indent=2, default=str))
    else:
        print(summary(findings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
