"""Wall time of the offline demo (``deliberate demo``) on this machine, per step.

Target (issue: one command end to end): the default demo under ~15 minutes and ``--quick`` under
~5 minutes on 2 CPU cores. The first run into a folder also converts the GGUF student to a model
folder under ``OUT/models`` (timed as its own step); a second run with the same ``--out`` reuses it.

    python benchmarks/demo_timing.py [--quick] [--out DIR] [--data-dir ../shared/data]

Prints the step timings, the wall time against the target, and the before/after summary.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_S = {"full": 15 * 60, "quick": 5 * 60}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", type=Path, default=None, help="demo output folder (default: a temp dir)")
    ap.add_argument("--data-dir", type=Path, default=None)
    args = ap.parse_args(argv)

    out = args.out or Path(tempfile.mkdtemp(prefix="deliberate-demo-"))
    cmd = [sys.executable, "-m", "deliberate.cli", "demo", "--out", str(out)]
    if args.quick:
        cmd.append("--quick")
    if args.data_dir:
        cmd += ["--data-dir", str(args.data_dir)]
    print("running:", " ".join(cmd), f"(cpus: {os.cpu_count()})", flush=True)
    start = time.perf_counter()
    proc = subprocess.run(cmd, check=False)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        print(f"demo failed with exit code {proc.returncode}")
        return proc.returncode
    summary = json.loads((out / "summary.json").read_text())
    kind = "quick" if args.quick else "full"
    print(f"\n{'step':<40} seconds")
    for step, seconds in summary["timings"].items():
        print(f"{step:<40} {seconds:>7.1f}")
    print(f"{'wall (process, incl. imports)':<40} {wall:>7.1f}   target <= {TARGET_S[kind]} s "
          f"({'met' if wall <= TARGET_S[kind] else 'MISSED'})")
    print(f"\n{'metric':<28} {'before':>7} {'after':>7}")
    for key in ("refusal_rate_disallowed", "compliance_rate_benign", "valid_citation_rate"):
        row = summary[key]
        cells = ["n/a" if row[k] is None else f"{row[k]:.2f}" for k in ("before", "after")]
        print(f"{key:<28} {cells[0]:>7} {cells[1]:>7}")
    print(f"\nreport: {out / 'report.html'}")
    return 0 if wall <= TARGET_S[kind] else 1


if __name__ == "__main__":
    sys.exit(main())
