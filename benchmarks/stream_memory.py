"""Peak memory of the streaming runner against N lazily generated requests: flat in N.

For each N a fresh process streams N requests (a generator: no list of them anywhere) through
:func:`deliberate.llm.iter_results` to the loopback server (its own process, zero latency, no
request bodies kept), with a fresh SQLite cache (every result committed before it is yielded)
and the results consumed one by one (counted, then dropped), as a stage writing them to a file
would. It reports that process's peak RSS (``ru_maxrss``) and wall time; also, with
``--list``, the old way for comparison (``generate`` over a list of N requests).

    nice -n 10 python benchmarks/stream_memory.py --sizes 10000,100000 [--concurrency 128]

Measured here (2 shared CPUs, load average 4.5-8, ``nice -n 10``, concurrency 128; target:
flat, <= 300 MB at every N):

    mode     N            peak RSS    wall        requests/s
    stream   10,000       54 MB       22.3 s      448
    stream   100,000      56 MB       243.3 s     411
    stream   1,000,000    58 MB       2276.7 s    439
    list     10,000       103 MB      27.0 s      370   (generate() over a list, for scale)

Before this work the runner held every request and result: 118 MB at 2,000 prompts and 859 MB
at 40,000 (~21 KB a prompt).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from backend_throughput import loopback_server


def child(n: int, base_url: str, concurrency: int, folder: str, as_list: bool) -> None:
    """Run N requests in this process; print one JSON line with its peak RSS and wall time."""
    from deliberate.llm import BackendOptions, ModelRequest, generate, iter_results
    from deliberate.llm.types import ChatMessage

    options = BackendOptions(base_url=base_url, concurrency=concurrency, progress=False,
                             cache=Path(folder) / f"c{n}-{int(as_list)}.sqlite")
    requests = (ModelRequest(id=f"p{i}#0", messages=[ChatMessage(role="user", content=f"question {i}")])
                for i in range(n))
    started = time.perf_counter()
    if as_list:
        ok = sum(r.ok for r in generate(list(requests), "openai/m", options).results)
    else:
        with iter_results(requests, "openai/m", options) as results:
            ok = sum(result.ok for result in results)
    wall = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(json.dumps({"n": n, "ok": ok, "peak_mb": round(peak, 1), "wall_s": round(wall, 1)}))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--concurrency", type=int, default=128)
    parser.add_argument("--list", action="store_true", help="also the list API, for comparison")
    parser.add_argument("--child", nargs=4, metavar=("N", "URL", "FOLDER", "LIST"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        n, url, folder, as_list = args.child
        child(int(n), url, args.concurrency, folder, as_list == "1")
        return 0
    sizes = [int(s) for s in args.sizes.split(",")]
    modes = ["stream", "list"] if args.list else ["stream"]
    print(f"{'mode':7} {'N':>10} {'ok':>10} {'peak RSS':>10} {'wall':>9} {'req/s':>7}")
    with loopback_server(0.0) as base_url, tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            for mode in modes:
                command = [sys.executable, __file__, "--concurrency", str(args.concurrency),
                           "--child", str(n), base_url, tmp, "1" if mode == "list" else "0"]
                line = subprocess.run(command, capture_output=True, text=True, check=True).stdout
                row = json.loads(line.strip().splitlines()[-1])
                print(f"{mode:7} {n:>10,} {row['ok']:>10,} {row['peak_mb']:>7.0f} MB "
                      f"{row['wall_s']:>7.1f} s {n / row['wall_s']:>7.0f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
