"""SFT training throughput: ``deliberate.train.sft`` vs a hand-written plain TRL ``SFTTrainer``.

Target (issue 6): our recipe trains at >= 0.97x the tokens/s of plain TRL on the same model, data
and settings, i.e. the data handling, template checks and bookkeeping around TRL cost nothing
inside the training loop. Both runs use a local Qwen3 (hidden 256, 4 layers, built here), the
same 64 spec-citing examples, assistant-only loss, fixed steps, one torch thread.

Two rates per run, both over the training loop only (a callback marks its start and end):
tokens TRL counted (``num_tokens``) per wall-clock second, and per CPU second of this process.
On a machine shared with other work the wall-clock rate swings several-fold from run to run;
CPU time counts only the work this process did, so the CPU-time ratio is the one to judge the
target by (the wall-clock one is printed too). A discarded warm-up run pays torch's one-time
costs; then the two alternate (ABBA order) and the best of ``--repeats`` is kept; the median of the
per-repetition ratios (each pair ran back to back, under the same load) is printed as well.

    python benchmarks/sft_throughput.py [--steps 20] [--batch-size 4] [--repeats 4] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from support.tiny_model import build_tiny_model

TOPICS = ["a Python process", "a stuck download", "an old siege engine", "a kitchen knife", "a lock"]


def build_model(out: Path) -> Path:
    """The tiny tokenizer with a 4-layer, hidden-256 Qwen3 (tiny-but-not-trivial)."""
    from transformers import AutoTokenizer, Qwen3Config, Qwen3ForCausalLM

    build_tiny_model(out)
    tok = AutoTokenizer.from_pretrained(out)
    config = Qwen3Config(
        vocab_size=len(tok), hidden_size=256, intermediate_size=768, num_hidden_layers=4,
        num_attention_heads=8, num_key_value_heads=4, head_dim=32, max_position_embeddings=2048,
        pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id, tie_word_embeddings=True,
    )
    Qwen3ForCausalLM(config).save_pretrained(out)
    return out


def write_data(path: Path, n: int = 64) -> Path:
    rows = []
    for i in range(n):
        topic = TOPICS[i % len(TOPICS)]
        cot = (f"The user asks about {topic}. Per violence.1 and style.compliance this is benign; "
               "nothing here helps anyone hurt a person. " * (1 + i % 4)).strip()
        answer = f"Here is how to deal with {topic}: step one, step two, step three. " * (1 + i % 3)
        rows.append({"messages": [{"role": "user", "content": f"Question {i}: how do I handle {topic}?"},
                                  {"role": "assistant", "content": answer.strip(), "reasoning_content": cot}],
                     "prompt_id": f"p{i}", "category": ["none"]})
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def settings(out: Path, steps: int, batch_size: int) -> dict[str, Any]:
    return {"output_dir": str(out), "max_steps": steps, "per_device_train_batch_size": batch_size,
                "learning_rate": 1e-4, "bf16": False, "activation_checkpointing": False, "report_to": "none",
                "save_strategy": "no", "logging_steps": steps, "disable_tqdm": True, "seed": 0, "use_cpu": True}


class Rates(NamedTuple):
    wall: float  # tokens per wall-clock second of the training loop
    cpu: float  # tokens per CPU second of this process during the training loop
    whole_run_s: float  # set-up + training + saving, wall clock


def loop_timer() -> Any:
    """A callback timing the training loop in wall-clock and process CPU time."""
    from transformers import TrainerCallback

    class LoopTimer(TrainerCallback):
        def on_train_begin(self, args, state, control, **kwargs):
            self.wall, self.cpu = time.perf_counter(), time.process_time()

        def on_train_end(self, args, state, control, **kwargs):
            self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu

    return LoopTimer()


def run_ours(model: Path, data: Path, out: Path, steps: int, batch_size: int) -> Rates:
    from deliberate.train.config import SFTTrainConfig
    from deliberate.train.sft import run_sft

    start, timer = time.perf_counter(), loop_timer()
    config = SFTTrainConfig(model=f"hf/{model}", dataset=str(data), **settings(out, steps, batch_size))
    result = run_sft(config, callbacks=[timer])
    return _rates(result.log_history, timer, time.perf_counter() - start)


def run_plain_trl(model: Path, data: Path, out: Path, steps: int, batch_size: int) -> Rates:
    """What a user would write by hand with TRL for the same job."""
    from datasets import load_dataset
    from transformers import AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    start, timer = time.perf_counter(), loop_timer()
    dataset = load_dataset("json", data_files=str(data), split="train").select_columns(["messages"])
    args = SFTConfig(assistant_only_loss=True, **settings(out, steps, batch_size))
    trainer = SFTTrainer(model=str(model), args=args, train_dataset=dataset,
                         processing_class=AutoTokenizer.from_pretrained(model), callbacks=[timer])
    trainer.train()
    trainer.save_model(str(out))
    return _rates(trainer.state.log_history, timer, time.perf_counter() - start)


def _rates(history: list[dict[str, Any]], timer: Any, whole_run_s: float) -> Rates:
    tokens = float(max(h["num_tokens"] for h in history if "num_tokens" in h))
    return Rates(tokens / timer.wall, tokens / timer.cpu, whole_run_s)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        model, data = build_model(root / "model"), write_data(root / "sft.jsonl")
        run_plain_trl(model, data, root / "warm-up", 2, args.batch_size)
        results: dict[str, list[Rates]] = {"deliberate": [], "plain TRL": []}
        runs = [("deliberate", run_ours), ("plain TRL", run_plain_trl)]
        for i in range(args.repeats):
            for name, run in runs if i % 2 == 0 else runs[::-1]:
                results[name].append(run(model, data, root / f"{name[:5]}-{i}", args.steps, args.batch_size))
                rates = results[name][-1]
                print(f"  run {i} {name:>10}: {rates.wall:7,.0f} tokens/s wall, {rates.cpu:7,.0f} per CPU s",
                      file=sys.stderr)
    best = {name: (max(r.wall for r in runs), max(r.cpu for r in runs), min(r.whole_run_s for r in runs))
            for name, runs in results.items()}
    for name, (wall, cpu, whole) in best.items():
        print(f"{name:>10}: {wall:7,.0f} tokens/s wall, {cpu:7,.0f} tokens per CPU second "
              f"(best of {args.repeats}); whole run {whole:.1f} s")
    ratio_wall = best["deliberate"][0] / best["plain TRL"][0]
    ratio_cpu = best["deliberate"][1] / best["plain TRL"][1]
    # each repetition runs the two back to back, so their ratio shares that moment's load
    pairs = list(zip(results["deliberate"], results["plain TRL"]))
    paired_cpu = statistics.median(ours.cpu / plain.cpu for ours, plain in pairs)
    paired_wall = statistics.median(ours.wall / plain.wall for ours, plain in pairs)
    print(f"     ratio: {ratio_cpu:.3f} by CPU time, {ratio_wall:.3f} by wall clock (best vs best; target >= 0.97)")
    print(f"    paired: {paired_cpu:.3f} by CPU time, {paired_wall:.3f} by wall clock "
          f"(median over the {len(pairs)} back-to-back repetitions)")
    return 0 if ratio_cpu >= 0.97 else 1


if __name__ == "__main__":
    sys.exit(main())
