"""Memory of the duplicate-id check over N ids: a plain set of digests against ``SeenIds``.

Each variant runs in a fresh process that adds N id digests (checking each first, as
``iter_prompts`` does) and reports its peak RSS over the interpreter's baseline and its time.

    nice -n 10 python benchmarks/seen_ids.py [--n 1000000]

Measured here (2 CPUs shared with a 1.5B model on CPU, 2026-12-02), N = 1,000,000: the set
78 MB over the baseline, ``SeenIds`` 13 MB. Time, with the same contention (so only the ratio
means much): set 2.8 s, ``SeenIds`` 20.7 s with a check and an add per id (then 18.2 s against
80.2 s in a second, busier run): some 20-80 us an id, against the stage's ~2 ms a prompt.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

CHILD = r"""
import hashlib, json, resource, sys, time
from deliberate.records.seen import SeenIds
n, kind = int(sys.argv[1]), sys.argv[2]
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
seen = set() if kind == "set" else SeenIds()
started = time.perf_counter()
for i in range(n):
    d = int.from_bytes(hashlib.blake2b(f"p{i}".encode(), digest_size=8).digest(), "big")
    if kind == "set":
        if d in seen:
            raise SystemExit("duplicate")
        seen.add(d)
    elif not seen.add(d):  # as iter_prompts does: add says whether d was new
        raise SystemExit("duplicate")
seconds = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"kind": kind, "mb": (peak - base) / 1024, "seconds": seconds}))
"""


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1_000_000)
    args = parser.parse_args()
    print(f"{'N':>10} {'variant':>8} {'RSS over baseline':>18} {'time':>8}")
    for kind in ("set", "seenids"):
        out = subprocess.run([sys.executable, "-c", CHILD, str(args.n), kind], check=True,
                             capture_output=True, text=True).stdout
        row = json.loads(out)
        print(f"{args.n:>10,} {kind:>8} {row['mb']:>15.0f} MB {row['seconds']:>6.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
