"""The Batch API path's own cost: N requests through the loopback server's batch endpoints.

The loopback server (its own process) answers a batch as soon as it is polled
(``--batch-delay 0``), so what is measured is ours: writing the batch JSONL (cache look-ups,
request bodies), uploading it, creating the batch, polling, streaming the output file down and
importing every answer into the SQLite cache, then reading all N back in input order from the
cache (``iter_results(send=False)``, as a stage would). Each run is a fresh process, so its
peak RSS is the batch path's. ``export`` is the JSONL writing alone.

    nice -n 10 python benchmarks/batch_overhead.py [--requests 10000] [--max-requests 50000]

Measured here (2 shared CPUs, load average 5-7, ``nice -n 10``):

* 10,000 requests, one batch file: 5.47 s in all (547 us a request): export to the folder
  1.95 s (cache look-ups, identity, JSONL), upload + create 0.16 s, polling 0.59 s (the server
  answers the batch then), download + import 1.22 s; importing openai for the Batch API client
  is most of the rest. Reading the 10,000 answers back in order from the cache: 1.44 s. Peak
  RSS 70 MB.
* 40,000 requests in 4 files (``--max-requests 10000``): 24.4 s (611 us a request), peak RSS
  71 MB: flat.
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


def requests(n: int):
    from deliberate.llm import ModelRequest
    from deliberate.llm.types import ChatMessage

    return (ModelRequest(id=f"p{i}#0", messages=[ChatMessage(role="user", content=f"question {i}")])
            for i in range(n))


def timed(module, name: str, phases: dict[str, float]) -> None:
    """Wrap the coroutine ``module.name`` to add its time to ``phases[name]``."""
    inner = getattr(module, name)

    async def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            return await inner(*args, **kwargs)
        finally:
            phases[name] = phases.get(name, 0.0) + time.perf_counter() - started

    setattr(module, name, wrapper)


def child(n: int, base_url: str, folder: Path, max_requests: int) -> dict:
    from deliberate.llm import BackendOptions, batchapi, iter_results
    from deliberate.llm.batchapi import generate_batch
    from deliberate.llm.batchfile import export_batch

    phases: dict[str, float] = {}
    for name in ("_prepare", "_submit", "_poll", "_collect"):
        timed(batchapi, name, phases)

    started = time.perf_counter()
    export_batch(requests(n), folder / "export.jsonl", model="m", identity="bench")
    exported = time.perf_counter() - started
    options = BackendOptions(base_url=base_url, progress=False, cache=folder / "c.sqlite")
    started = time.perf_counter()
    run = generate_batch(requests(n), "openai/m", folder / "batch", options, poll_interval=0.2,
                         max_requests=max_requests)
    batch = time.perf_counter() - started
    started = time.perf_counter()
    with iter_results(requests(n), "openai/m", options, send=False) as results:
        read = sum(r.cached for r in results)
    back = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    assert run.imported == read == n, (run.imported, read)
    return {"parts": run.parts, "export_s": exported, "batch_s": batch, "read_s": back,
            "peak_mb": peak, "phases": phases}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--max-requests", type=int, default=50_000)
    parser.add_argument("--child", nargs=2, metavar=("URL", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    n = args.requests
    if args.child:
        print(json.dumps(child(n, args.child[0], Path(args.child[1]), args.max_requests)))
        return 0
    with loopback_server(0.0) as base_url, tempfile.TemporaryDirectory() as tmp:
        command = [sys.executable, __file__, "--requests", str(n), "--max-requests",
                   str(args.max_requests), "--child", base_url, tmp]
        row = json.loads(subprocess.run(command, capture_output=True, text=True,
                                        check=True).stdout.strip().splitlines()[-1])
    total = row["batch_s"]
    print(f"requests {n:,} in {row['parts']} batch file(s)")
    print(f"export alone (write JSONL)      {row['export_s']:7.2f} s")
    print(f"batch path (export, upload, create, poll, download, import)  {total:7.2f} s  "
          f"= {total / n * 1e6:.0f} us a request")
    names = {"_prepare": "export to the folder", "_submit": "upload + create",
             "_poll": "poll (server answers here)", "_collect": "download + import"}
    for name, label in names.items():
        print(f"  {label:29} {row['phases'].get(name, 0):7.2f} s")
    print(f"read back from the cache        {row['read_s']:7.2f} s")
    print(f"peak RSS                        {row['peak_mb']:7.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
