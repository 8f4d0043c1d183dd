"""A minimal streaming stage, as a script, for kill-and-resume tests of the streaming runner.

Reads prompts (JSONL, lazily), asks each ``--samples`` times through :func:`iter_results`, and
writes one line per answer to ``--out`` and one per failure to ``--out``'s ``.failures`` file
through :class:`ResumableOutput` (checkpoint ``.progress.json``), in input order.

    python tests/support/stream_stage.py --prompts p.jsonl --out out.jsonl --base-url URL --cache c.sqlite
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from deliberate.llm import BackendOptions, ModelRequest, iter_results
from deliberate.llm.types import ChatMessage
from deliberate.records.jsonl import iter_jsonl_lines
from deliberate.records.resume import ResumableOutput


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    for flag in ("--prompts", "--out", "--base-url", "--cache"):
        parser.add_argument(flag, required=True)
    parser.add_argument("--samples", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--every", type=int, default=8)
    args = parser.parse_args(argv)
    out = Path(args.out)
    options = BackendOptions(base_url=args.base_url, cache=Path(args.cache), progress=False,
                             concurrency=args.concurrency, backoff_base=0.01, max_attempts=10)
    files = {"records": out, "failures": out.with_suffix(".failures.jsonl")}
    with ResumableOutput(files, out.with_suffix(".progress.json"), every=args.every) as output:
        prompts = output.resume((obj for _, obj in iter_jsonl_lines(args.prompts)),
                                key=lambda p: p["id"])
        requests = (ModelRequest(id=f"{p['id']}#{k}", sample_index=k,
                                 messages=[ChatMessage(role="user", content=p["prompt"])])
                    for p in prompts for k in range(args.samples))
        with iter_results(requests, "openai/m", options) as results:
            for count, result in enumerate(results, start=1):
                line = ({"id": result.id, "answer": result.response.content} if result.ok
                        else {"id": result.id, "error": result.error})
                output.write("records" if result.ok else "failures", json.dumps(line))
                if count % args.samples == 0:  # the prompt's last sample: the input is done
                    output.input_done(result.id.rsplit("#", 1)[0])
    output.finish()
    return 0


if __name__ == "__main__":
    sys.exit(main())
