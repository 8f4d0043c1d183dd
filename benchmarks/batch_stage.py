"""A whole stage through batches against the same stage live: ``deliberate generate --batch``.

N prompts, one sample each, against the loopback server in its own process (zero latency; its
batches are answered when first polled, ``--batch-delay 0``). Its echo replies have no
reasoning, so every sample is re-asked once: two batch rounds, and a final round from the
cache, as a stage with re-asks runs. Each run is a fresh process (its peak RSS is the run's),
with its own cache; the live run sends the same requests as chat completions.

    nice -n 10 python benchmarks/batch_stage.py [--prompts 10000]

Measured here (2 shared CPUs, ``nice -n 10``), 10,000 prompts (20,000 requests of ~13 KB):
live 125.3 s, peak RSS 377 MB; ``--batch`` 143.0 s, 405 MB (two batch rounds, the stage run
three times); the same records byte for byte. 1,000 prompts: live 10.4 s / 88 MB, batch
11.3-15.6 s / 124 MB (the openai package, imported for the Batch API, is ~30 MB of it).
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
from backend_throughput import LOOPBACK


def child(args: list[str]) -> dict:
    from deliberate.cli.app import main

    started = time.perf_counter()
    code = main(args)
    return {"code": code, "seconds": time.perf_counter() - started,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def run(args: list[str]) -> dict:
    done = subprocess.run([sys.executable, __file__, "--child", json.dumps(args)],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--prompts", type=int, default=10_000)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return 0
    server = subprocess.Popen([sys.executable, str(LOOPBACK), "--batch-delay", "0"],
                              stdout=subprocess.PIPE, text=True)
    try:
        base_url = server.stdout.readline().strip().split(" ", 1)[1]
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            prompts = folder / "p.jsonl"
            prompts.write_text("".join(
                json.dumps({"id": f"p{i}", "prompt": f"question {i}", "category": ["none"]}) + "\n"
                for i in range(args.prompts)))
            rows = {}
            for mode, extra in (("live", []), ("batch", ["--batch", "--batch-poll", "0.2"])):
                rows[mode] = run(["generate", "-p", str(prompts), "-m", "openai/m", "--samples", "1",
                                  "-o", str(folder / f"{mode}.jsonl"), "--base-url", base_url,
                                  "--cache", str(folder / f"{mode}.sqlite"), "--quiet",
                                  "--max-failure-rate", "1", *extra])
            same = (folder / "live.jsonl").read_bytes() == (folder / "batch.jsonl").read_bytes()
    finally:
        server.terminate()
        server.wait()
    n = args.prompts
    print(f"generate, {n:,} prompts x 1 sample, each re-asked once ({2 * n:,} requests)")
    for mode, row in rows.items():
        print(f"  {mode:5}  exit {row['code']}  {row['seconds']:7.2f} s  "
              f"({row['seconds'] / (2 * n) * 1e6:.0f} us a request)  peak RSS {row['peak_mb']:.0f} MB")
    print(f"  same records: {same}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
