"""The data stages with a real instruct model as labeler, teacher and judge, on CPU.

label -> generate -> judge -> filter on a mix of held-out seed prompts, XSTest safe prompts and
StrongREJECT prompts, with Qwen2.5-Coder-1.5B-Instruct (Q4_K_M, through ``hf/``) in every role
(``--model qwen0.5b`` for the 0.5B). Prints how real replies fare: labels parsed at the first ask
and after re-asks, second opinions on ``none`` labels, teacher replies well formed at the first
ask / after a re-ask / salvaged, chains of thought with valid citations, verdicts parsed at the
first ask and after re-asks, samples kept and every drop reason, with wall time per stage.

    python benchmarks/real_models.py [--limit 8] [--model qwen1.5b] [--out DIR] [--data-dir ../shared/data]

It takes tens of minutes on 2 CPU cores (measured figures in the README's "Real models"
section). The model comes from PyPI packages (see ``benchmarks/pypi_models.py``).
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pypi_models import MODELS, model_ref

from deliberate.records.prompt import PromptRecord

RETRY_STRIDE = 1000  # llm.parsed: a re-ask's sample index is index + 1000 x attempt
SECOND_OPINION = 50  # generate.second_opinion: a second opinion adds 50


class Recording:
    """A backend wrapper that remembers every request (id, sample index) per stage."""

    def __init__(self, backend: Any) -> None:
        self._backend, self.stage, self.calls = backend, "", Counter()
        self.asked: dict[str, list[tuple[str, int]]] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._backend, name)

    async def generate(self, batch: list[Any]) -> list[Any]:
        self.asked.setdefault(self.stage, []).extend((r.id, r.sample_index) for r in batch)
        return await self._backend.generate(batch)


def prompt_mix(data_dir: Path, limit: int) -> list[PromptRecord]:
    """About a third each: held-out seed prompts (their expected mode kept, their category
    dropped so the labeler has work), XSTest safe prompts, StrongREJECT prompts."""
    from deliberate.pipeline.demo_data import seed_examples

    seeds = [s for s in seed_examples() if s["split"] == "eval"]
    seed_prompts = [PromptRecord(id=s["id"], prompt=s["prompt"], expected_mode=s["expected_mode"])
                    for s in seeds]
    with open(data_dir / "xstest" / "xstest_prompts.csv", encoding="utf-8") as handle:
        xs = [PromptRecord(id=f"xs-{r['id']}", prompt=r["prompt"], expected_mode="comply")
              for r in csv.DictReader(handle) if r["label"] == "safe"]
    with open(data_dir / "strongreject" / "strongreject_dataset.csv", encoding="utf-8") as handle:
        sr = [PromptRecord(id=f"sr-{i}", prompt=r["forbidden_prompt"], expected_mode="refuse")
              for i, r in enumerate(csv.DictReader(handle))]
    per = [limit - 2 * (limit // 3), limit // 3, limit // 3]
    return [p for group, n in zip((seed_prompts, xs, sr), per) for p in _spread(group, n)]


def _spread(rows: list[Any], n: int) -> list[Any]:
    return [rows[i * len(rows) // n] for i in range(n)] if n else []


def asks(recording: Recording, stage: str) -> tuple[int, int, int]:
    """(items asked, items asked again after a bad reply, second opinions) in a stage."""
    seen = recording.asked.get(stage, [])
    first = {i for i, s in seen if s % RETRY_STRIDE < SECOND_OPINION}
    again = {i for i, s in seen if s >= RETRY_STRIDE}
    second = {i for i, s in seen if SECOND_OPINION <= s % RETRY_STRIDE}
    return len(first), len(again), len(second)


def run_stages(prompts: list[PromptRecord], model: Any, options: Any, spec: Any) -> dict[str, Any]:
    from deliberate.generate.cot import GenerateConfig, run_generate
    from deliberate.generate.label import LabelConfig, run_label
    from deliberate.judge.filter import FilterConfig, run_filter
    from deliberate.judge.judge import JudgeConfig, run_judge

    out: dict[str, Any] = {"seconds": {}}

    def timed(stage: str, fn: Any) -> Any:
        model.stage, start = stage, time.perf_counter()
        value = fn()
        out["seconds"][stage] = round(time.perf_counter() - start, 1)
        print(f"[{stage}] {out['seconds'][stage]:.0f} s", flush=True)
        return value

    out["label"] = timed("label", lambda: run_label(LabelConfig(), prompts, spec=spec, labeler=model,
                                                     options=options))
    out["generate"] = timed("generate", lambda: run_generate(
        GenerateConfig(samples=1, max_tokens=512), out["label"].records, spec=spec, teacher=model,
        options=options))
    out["judge"] = timed("judge", lambda: run_judge(JudgeConfig(judge_k=1), out["generate"].records,
                                                     spec=spec, judge=model, options=options))
    out["filter"] = timed("filter", lambda: run_filter(FilterConfig(), out["judge"].records))
    return out


def table(out: dict[str, Any], model: Recording, n: int) -> list[str]:
    label, gen, judged = out["label"], out["generate"], out["judge"]
    examples, summary = out["filter"]
    flagged = [r for r in label.records if "label_flags" in r.metadata]
    changed = [r for r in flagged if r.metadata["label_flags"]["second"] not in (None, ["none"])]
    l_first, l_again, l_second = asks(model, "label")
    g_first, g_again, _ = asks(model, "generate")
    j_first, j_again, _ = asks(model, "judge")
    formats = Counter(r.reasoning_format.value for r in gen.records)
    well_formed = f"{sum(r.checks.format.ok for r in gen.records)}/{len(gen.records)}"
    rows = [
        ("prompts", n),
        ("labels parsed at the first ask", f"{l_first - l_again}/{l_first}"),
        ("labels parsed after re-asks", f"{len(label.records)}/{l_first} ({len(label.failures)} failed)"),
        ("second opinions on none / labels changed", f"{l_second} / {len(changed)}"),
        ("teacher replies well formed at the first ask", f"{g_first - g_again}/{g_first}"),
        ("well formed after re-asks (salvaged)", f"{well_formed} ({formats.get('salvaged', 0)})"),
        ("reasoning formats", dict(formats)),
        ("teacher replies cut at max_tokens", sum(r.finish_reason == "length" for r in gen.records)),
        ("CoTs with valid citations", f"{sum(r.checks.citation.valid for r in gen.records)}/{len(gen.records)}"),
        ("CoTs with spec references (leaks)", sum(r.checks.leak.leaked for r in gen.records)),
        ("verdicts parsed at the first ask", f"{j_first - j_again}/{j_first}"),
        ("verdicts parsed after re-asks", f"{sum(r.score is not None for r in judged.records)}/{len(judged.records)}"),
        ("samples kept by the filter", f"{len(examples)}/{len(judged.records)}"),
        ("drops (first reason)", {k: sum(c.get(k, 0) for c in summary.dropped.values())
                                  for k in sorted({k for c in summary.dropped.values() for k in c})}),
        ("problems found (all reasons)", {k: sum(c.get(k, 0) for c in summary.reasons.values())
                                          for k in sorted({k for c in summary.reasons.values() for k in c})}),
        ("seconds per stage", out["seconds"]),
        ("peak RSS", f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"),
    ]
    return [f"{name:<48} {value}" for name, value in rows]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=int, default=40, help="prompts (default 40)")
    ap.add_argument("--model", choices=sorted(MODELS), default="qwen1.5b")
    ap.add_argument("--out", type=Path, default=None, help="folder for records and the cache")
    ap.add_argument("--data-dir", type=Path, default=None)
    ap.add_argument("--batch-size", type=int, default=4)
    args = ap.parse_args(argv)

    from deliberate.llm import BackendOptions, get_backend
    from deliberate.pipeline.demo_data import find_data_dir
    from deliberate.records.jsonl import write_jsonl
    from deliberate.spec import load_spec

    data_dir = find_data_dir(args.data_dir)
    if data_dir is None:
        raise SystemExit("no data folder with xstest/ and strongreject/ (pass --data-dir)")
    out_dir = args.out or Path(tempfile.mkdtemp(prefix="deliberate-real-"))
    options = BackendOptions(cache=out_dir / "cache.sqlite", batch_size=args.batch_size)
    ref = model_ref(args.model)
    model = Recording(get_backend(ref, options))
    prompts = prompt_mix(data_dir, args.limit)
    print(f"{args.model} ({ref}) on {len(prompts)} prompts -> {out_dir}", flush=True)
    start = time.perf_counter()
    out = run_stages(prompts, model, options, load_spec("default"))
    for stage in ("label", "generate", "judge"):
        write_jsonl(out_dir / f"{stage}.jsonl", out[stage].records)
    write_jsonl(out_dir / "sft.jsonl", out["filter"][0])
    lines = table(out, model, len(prompts))
    lines.append(f"{'wall':<48} {time.perf_counter() - start:.0f} s")
    print("\n".join(lines))
    (out_dir / "table.json").write_text(json.dumps(lines, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
