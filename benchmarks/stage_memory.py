"""Peak memory of the real ``deliberate generate`` stage against N prompts: flat in N.

For each N it writes N prompts (JSONL, category ``none``) and runs the installed ``deliberate
generate`` command on them in a fresh process (``--samples 1``, ``--attempts 1``, a fresh
response cache) against the loopback server (its own process, zero latency, echo replies). It
reports that process's peak RSS (``wait4``'s ``ru_maxrss``), wall time and prompts per second;
the stage reads its input lazily and writes its output chunk by chunk
(:mod:`deliberate.records.chunked`), so the peak should not grow with N.

    nice -n 10 python benchmarks/stage_memory.py --sizes 10000,100000 [--million]

Target (issue 22): flat, <= 300 MB at every N. Measured here (2 shared CPUs, load average
5-6 with another job running, ``nice -n 10``, concurrency 128, default ``--chunk-size`` 2000):

             N    records   peak RSS      wall  prompts/s
        10,000     10,000     136 MB    49.9 s        200
       100,000    100,000     148 MB   419.3 s        238
     1,000,000  1,000,000     216 MB  2198.6 s        455

(the 1M row on 2026-12-02 with nothing else running: load average ~1.3, ``--sizes 1000
--million``; 1,000 prompts took 88 MB, 3.7 s.) Before (the whole input and every result in
memory): 274 MB at 10,000 and 859 MB at 40,000 (about 21 KB a prompt). What still grows: the
duplicate-id check's 8-byte digest per prompt (about 65 bytes each in a Python set: most of the
difference between 100k and 1M). Since then the check keeps only the last 100,000 digests in
memory and the rest in a temporary SQLite file (``benchmarks/seen_ids.py``: 13 MB against 78 MB
at 1M ids), not re-measured here at 1M. The per-record work (checks, records) runs
on the event loop's thread, so it is CPU-bound at zero latency.
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

sys.path.insert(0, str(Path(__file__).parent))
from backend_throughput import loopback_server

SCRIPT = Path(sys.executable).with_name("deliberate")


def write_prompts(path: Path, n: int) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        handle.writelines(json.dumps({"id": f"p{i}", "prompt": f"question {i}: how do I bake "
                                      f"bread number {i}?", "category": "none"}) + "\n"
                          for i in range(n))


def run_stage(n: int, base_url: str, folder: Path, concurrency: int, chunk: int | None) -> dict:
    """One ``deliberate generate`` process on N prompts; its peak RSS and wall time."""
    prompts, out = folder / f"p{n}.jsonl", folder / f"g{n}.jsonl"
    write_prompts(prompts, n)
    command = [str(SCRIPT), "generate", "--prompts", str(prompts), "--teacher", "openai/m",
               "--samples", "1", "--attempts", "1", "--out", str(out), "--base-url", base_url,
               "--cache", str(folder / f"c{n}.sqlite"), "--concurrency", str(concurrency),
               "--max-failure-rate", "1", "--quiet", *(["--chunk-size", str(chunk)] if chunk else [])]
    started = time.perf_counter()
    errors = folder / "stderr.txt"
    with open(errors, "wb") as stderr:  # a file, not a pipe: a full pipe would block the stage
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr)
        _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if status != 0:
        raise RuntimeError(f"generate failed ({status}): {errors.read_text()[-2000:]}")
    with open(out, encoding="utf-8") as handle:
        records = sum(1 for _ in handle)
    for path in (prompts, out):
        path.unlink()
    return {"n": n, "records": records, "peak_mb": usage.ru_maxrss / 1024, "wall_s": wall}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--million", action="store_true", help="also N = 1,000,000 (about 70 minutes here)")
    parser.add_argument("--concurrency", type=int, default=128)
    parser.add_argument("--chunk-size", type=int, default=None, help="the stage's --chunk-size")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")] + ([1_000_000] if args.million else [])
    print(f"{'N':>10} {'records':>10} {'peak RSS':>10} {'wall':>9} {'prompts/s':>10}", flush=True)
    with loopback_server(0.0) as base_url, tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            row = run_stage(n, base_url, Path(tmp), args.concurrency, args.chunk_size)
            print(f"{n:>10,} {row['records']:>10,} {row['peak_mb']:>7.0f} MB "
                  f"{row['wall_s']:>7.1f} s {n / row['wall_s']:>10.0f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
