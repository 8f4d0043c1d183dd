"""Run N echo requests through the Batch API path, as a script (kill-and-resume tests).

    python tests/support/batch_client.py --base-url URL --folder DIR --cache c.sqlite --requests 50
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from deliberate.llm import BackendOptions, ModelRequest
from deliberate.llm.batchapi import generate_batch
from deliberate.llm.types import ChatMessage


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    for flag in ("--base-url", "--folder", "--cache"):
        parser.add_argument(flag, required=True)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--poll", type=float, default=0.1)
    args = parser.parse_args(argv)
    options = BackendOptions(base_url=args.base_url, cache=Path(args.cache), progress=False)
    requests = (ModelRequest(id=f"r{i}", messages=[ChatMessage(role="user", content=f"q{i}")])
                for i in range(args.requests))
    run = generate_batch(requests, "openai/m", args.folder, options, poll_interval=args.poll)
    print(f"imported {run.imported} failed {len(run.failed)} missing {len(run.missing)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
