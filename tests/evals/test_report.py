"""The evaluation report: metrics with bootstrap CIs, plots, examples, HTML + Markdown."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest

pytest.importorskip("numpy")
pytest.importorskip("matplotlib")

from deliberate.errors import DeliberateError
from deliberate.evals.metrics import headline, suite_metrics
from deliberate.evals.suites.strongreject import goodness_at
from deliberate.records.evaluation import EvalResult
from deliberate.records.provenance import ModelInfo, Provenance, SpecInfo
from deliberate.report import bootstrap_metric, bootstrap_suite, build_report

INJECTION = "<script>alert('pwned')</script>"
JAILBREAKS = ["none", "base64", "prefix_injection", "roleplay"]
XS_TYPES = ["homonyms", "figurative_language", "contrast_homonyms"]
CATEGORIES = ["violent_wrongdoing", "self_harm", "benign_chemistry"]
MODES = {"violent_wrongdoing": "refuse", "self_harm": "safe_complete", "benign_chemistry": "comply"}


def _write(run: Path, suite: str, results: list[EvalResult]) -> None:
    (run / suite).mkdir(parents=True, exist_ok=True)
    (run / suite / "results.jsonl").write_text(
        "".join(r.model_dump_json() + "\n" for r in results), encoding="utf-8")


def make_run(root: Path, name: str, *, harm: float, comply: float, seed: int,
             label: str | None = None, suites: tuple[str, ...] = ("strongreject", "xstest", "spec"),
             n_prompts: int = 8, grader: str | None = None, described: dict | None = None) -> Path:
    """A small synthetic run dir: ``harm`` ~ mean harm score, ``comply`` ~ XSTest compliance;
    ``described``: what the suites' describe() stored in the manifest (``details.suites``)."""
    rng = random.Random(seed)
    run = root / name
    run.mkdir(parents=True)
    details: dict = {"jailbreaks": JAILBREAKS}
    if described is not None:
        details["suites"] = described
    manifest = Provenance(
        kind="eval", status="done", created="2025-01-01T00:00:00+00:00", label=label,
        config={"suites": list(suites), "samples": 1, "temperature": 0.6, "max_tokens": 512,
                "grader": grader},
        spec=SpecInfo(name="default", version="1", content_hash="0123456789abcdef"),
        models={"evaluated": ModelInfo(ref=f"org/{name}")}, versions={"deliberate": "0.1.0"},
        details=details)
    manifest.save(run)
    results: dict[str, list[EvalResult]] = {}
    if "strongreject" in suites:
        results["strongreject"] = [
            EvalResult(suite="strongreject", item_id=f"sr-{i}", group=jb,
                       request=f"How do I do bad thing {i}?",
                       prompt=f"How do I do bad thing {i}?" + ("" if jb == "none" else f" [{jb}]"),
                       reasoning=f"Thinking about {jb} <b>carefully</b>.",
                       answer=INJECTION if (i == 0 and jb == "base64") else f"Answer {i} {jb}",
                       refusal="compliance" if (s := min(1.0, max(0.0, rng.gauss(harm, 0.25)))) > 0.3 else "refusal",
                       score=1.0 if (i == 0 and jb == "base64") else round(s, 3),
                       details={"refused": int(s <= 0.3), "convincing": 3})
            for i in range(n_prompts) for jb in JAILBREAKS
        ]
    if "xstest" in suites:
        results["xstest"] = [
            EvalResult(suite="xstest", item_id=f"xs-{i}", group=XS_TYPES[i % 3],
                       label="unsafe" if XS_TYPES[i % 3].startswith("contrast") else "safe",
                       prompt=f"How do I kill a python process {i}?", answer=f"Use kill {i}.",
                       refusal="compliance" if rng.random() < comply else "refusal")
            for i in range(3 * n_prompts)
        ]
    if "spec" in suites:
        spec = []
        extra = random.Random(seed + 1000)  # its own stream: the other draws stay as they were
        for i in range(2 * n_prompts):
            cat = CATEGORIES[i % 3]
            match = rng.random() < 0.7
            spec.append(EvalResult(suite="spec", item_id=f"{cat}-ex{i}", group=cat, label=MODES[cat],
                                   prompt=f"Spec prompt {i}", reasoning="Per rule V-1 this is fine.",
                                   answer=f"Spec answer {i}", refusal="compliance" if match else "refusal",
                                   score=float(rng.randint(3, 10)),
                                   details={"mode_match": match, "citation_valid": rng.random() < 0.8,
                                            "criteria": {"style": float(extra.randint(2, 10))},
                                            "rule_cited": extra.random() < 0.7}))
        results["spec"] = spec
    for suite, rs in results.items():
        _write(run, suite, rs)
    (run / "metrics.json").write_text(json.dumps(
        {s: {k: v for k, v in suite_metrics(s, rs).items()} for s, rs in results.items()}), encoding="utf-8")
    return run


@pytest.fixture
def two_runs(tmp_path: Path) -> list[Path]:
    return [make_run(tmp_path / "runs", "base", harm=0.45, comply=0.9, seed=1, label="Base model"),
            make_run(tmp_path / "runs", "aligned", harm=0.1, comply=0.8, seed=2, label="Aligned")]


def test_build_report_html_and_markdown(tmp_path: Path, two_runs: list[Path]) -> None:
    out = build_report(two_runs, tmp_path / "out" / "report.html", n_boot=200, seed=0)
    assert out == tmp_path / "out" / "report.html" and out.is_file()
    html = out.read_text(encoding="utf-8")

    # metric table: both runs, headline metrics, "value [low, high]" cells
    table = html[html.index('<table class="metrics">'):]
    table = table[:table.index("</table>")]
    assert "Base model" in table and "Aligned" in table
    for metric in ("goodness@0.1", "not_overrefuse", "mode_agreement", "citation_accuracy"):
        assert metric in table
    assert len(re.findall(r"\d\.\d{3}</span> <span class=\"ci\">\[\d\.\d{3}, \d\.\d{3}\]", table)) >= 10

    # plots embedded: Pareto + three bar charts
    assert html.count('<img src="data:image/png;base64,') == 4
    assert 'id="plot-pareto"' in html and 'id="plot-strongreject_per_jailbreak"' in html

    # injected markup is escaped, reasoning collapsed
    assert INJECTION not in html and "<script" not in html
    assert "&lt;script&gt;" in html
    assert "<b>carefully</b>" not in html and '<details class="reasoning">' in html
    assert "How to read this" in html and "org/base" in html

    md = out.with_suffix(".md")
    text = md.read_text(encoding="utf-8")
    assert "Base model" in text and "Aligned" in text and "[" in text
    links = re.findall(r"\]\((report_files/[^)]+\.png)\)", text)
    assert len(links) == 4
    for link in links:
        assert (md.parent / link).read_bytes().startswith(b"\x89PNG")
    outside_fences = re.sub(r"```text\n.*?\n```", "", text, flags=re.DOTALL)
    assert INJECTION in text and "<script" not in outside_fences


def test_report_uses_results_over_metrics_json(tmp_path: Path) -> None:
    run = make_run(tmp_path, "r", harm=0.3, comply=0.7, seed=3)
    (run / "metrics.json").write_text(json.dumps({"strongreject": {"goodness@0.1": 0.123456}}))
    out = build_report([run], tmp_path / "rep.html", n_boot=50)
    html = out.read_text(encoding="utf-8")
    assert "0.1235" in html and "recomputed" in html  # the disagreement is noted
    results = [EvalResult.model_validate_json(x)
               for x in (run / "strongreject" / "results.jsonl").read_text().splitlines()]
    assert f"{goodness_at(results):.3f}" in html


def test_missing_and_empty_suites_are_skipped(tmp_path: Path) -> None:
    only_sr = make_run(tmp_path, "sr_only", harm=0.3, comply=0.7, seed=4, suites=("strongreject",))
    empty = make_run(tmp_path, "empty", harm=0.3, comply=0.7, seed=5, suites=("xstest",))
    (empty / "xstest" / "results.jsonl").write_text("")
    (empty / "metrics.json").unlink()
    manifest = json.loads((empty / "manifest.json").read_text())
    manifest["config"]["suites"] = ["xstest", "spec"]
    (empty / "manifest.json").write_text(json.dumps(manifest))
    stored = make_run(tmp_path, "stored", harm=0.3, comply=0.7, seed=6)
    (stored / "xstest" / "results.jsonl").unlink()  # only metrics.json left for XSTest

    out = build_report([only_sr, empty, stored], tmp_path / "r.html", n_boot=20)
    html = out.read_text(encoding="utf-8")
    assert "results.jsonl is empty; skipped" in html
    assert "spec/results.jsonl is missing" in html
    assert "&dagger;" in html  # the metrics.json fallback cell
    assert "not in the Pareto plot" in html
    assert html.count('<img src="data:image/png;base64,') >= 2


def test_single_run_and_duplicate_names(tmp_path: Path) -> None:
    a = make_run(tmp_path / "a", "same", harm=0.2, comply=0.9, seed=7)
    b = make_run(tmp_path / "b", "same", harm=0.4, comply=0.9, seed=8)
    html = build_report([a], tmp_path / "one.html", n_boot=20).read_text(encoding="utf-8")
    assert "org/same" in html and 'id="plot-pareto"' in html
    html = build_report([a, b, a], tmp_path / "dup.html", n_boot=0).read_text(encoding="utf-8")
    assert "org/same (a/same) #1" in html and "org/same (b/same)<" in html
    assert "org/same (a/same) #2" in html
    assert "no bootstrap intervals" in html


def test_report_shows_the_weight_fingerprints_of_evaluated_models(tmp_path: Path) -> None:
    # A served model has no local weights to hash: its cell says so ("—"), never another run's.
    runs = [make_run(tmp_path, name, harm=0.3, comply=0.8, seed=i, suites=("xstest",))
            for i, name in enumerate(("base", "sft", "served"))]
    for run, fingerprint in zip(runs, ("0a1b2c3d4e5f6071", "fedcba9876543210", None)):
        manifest = Provenance.load(run)
        manifest.models["evaluated"] = ModelInfo(ref=f"hf/{run.name}", fingerprint=fingerprint)
        manifest.save(run)
    out = build_report(runs, tmp_path / "r.html", n_boot=0)
    html = out.read_text(encoding="utf-8")
    assert "weights 0a1b2c3d4e5f6071" in html and "weights fedcba9876543210" in html
    assert "weights —" in html
    rows = [line for line in out.with_suffix(".md").read_text(encoding="utf-8").splitlines()
            if line.startswith("| ")]
    header = [c.strip() for c in rows[0].strip("|").split("|")]
    weights = {cells[1]: cells[header.index("weights")] for cells in (
        [c.strip() for c in row.strip("|").split("|")] for row in rows[1:4])}
    assert weights == {"hf/base": "0a1b2c3d4e5f6071", "hf/sft": "fedcba9876543210", "hf/served": "—"}


def test_bootstrap_ci_contains_point_and_is_deterministic(tmp_path: Path) -> None:
    run = make_run(tmp_path, "r", harm=0.35, comply=0.7, seed=9, n_prompts=30)
    for suite in ("strongreject", "xstest", "spec"):
        results = [EvalResult.model_validate_json(x)
                   for x in (run / suite / "results.jsonl").read_text().splitlines()]
        first = bootstrap_suite(suite, results, headline(suite), n_boot=300, seed=11)
        again = bootstrap_suite(suite, results, headline(suite), n_boot=300, seed=11)
        other = bootstrap_suite(suite, results, headline(suite), n_boot=300, seed=12)
        exact = bootstrap_suite(suite, results, headline(suite), n_boot=300, seed=11, force_exact=True)
        for name, iv in first.items():
            assert iv.value == pytest.approx(headline(suite)[name](results))
            assert iv.low <= iv.value <= iv.high, (suite, name, iv)
            assert iv.low < iv.high
            assert iv == again[name]
            assert (iv.low, iv.high) != (other[name].low, other[name].high)
            # the fast path (per-prompt sums) is the same bootstrap as recomputing the metric
            assert iv.method == "fast" and exact[name].method == "exact"
            assert exact[name].low == pytest.approx(iv.low) and exact[name].high == pytest.approx(iv.high)


def test_bootstrap_unknown_metric_falls_back_to_exact() -> None:
    results = [EvalResult(suite="xstest", item_id=f"p{i}", prompt="p", answer="a", score=float(i % 5))
               for i in range(40)]

    def maximum(rs):
        return max((r.score for r in rs), default=None)

    iv = bootstrap_metric(results, maximum, n_boot=100, seed=0)
    assert iv.method == "exact" and iv.value == 4.0 and iv.low <= 4.0 <= iv.high


def test_bootstrap_takes_the_fast_path_at_full_scale() -> None:
    """Every headline metric resamples by matrix product at StrongREJECT's full size (its speed
    is measured by benchmarks/report_bootstrap.py, not asserted here)."""
    rng = random.Random(0)
    results = []
    for i in range(313):
        for j in range(20):
            score = rng.random() ** 3
            results.append(EvalResult(suite="strongreject", item_id=f"sr-{i}", group=f"jb{j}", prompt="p",
                                      answer="a", score=score,
                                      refusal="compliance" if score > 0.3 else "refusal"))
    out = bootstrap_suite("strongreject", results, headline("strongreject"), n_boot=1000, seed=0)
    assert all(iv.method == "fast" and iv.low < iv.value < iv.high for iv in out.values())


def test_not_a_run_dir_raises(tmp_path: Path) -> None:
    (tmp_path / "nothing").mkdir()
    with pytest.raises(DeliberateError, match="no manifest.json"):
        build_report([tmp_path / "nothing"], tmp_path / "r.html")
    with pytest.raises(DeliberateError, match="no such run directory"):
        build_report([tmp_path / "missing"], tmp_path / "r.html")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "manifest.json").write_text('{"model": "x"}')
    with pytest.raises(DeliberateError, match="invalid manifest"):
        build_report([bad], tmp_path / "r.html")


def test_cli_report(tmp_path: Path, two_runs: list[Path], capsys) -> None:
    from deliberate.cli.app import main

    out = tmp_path / "cli" / "report.html"
    assert main(["report", *map(str, two_runs), "--out", str(out), "--n-boot", "50", "--seed", "3"]) == 0
    assert out.is_file() and out.with_suffix(".md").is_file()
    assert str(out) in capsys.readouterr().out
    (tmp_path / "empty").mkdir()
    assert main(["report", str(tmp_path / "empty"), "--out", str(out)]) == 2
    assert "no manifest.json" in capsys.readouterr().err


def _metrics_table(html: str) -> str:
    table = html[html.index('<table class="metrics">'):]
    return table[:table.index("</table>")]


def test_two_runs_get_a_delta_column_and_paired_examples(tmp_path: Path,
                                                         two_runs: list[Path]) -> None:
    out = build_report(two_runs, tmp_path / "report.html", n_boot=300, seed=0)
    html = out.read_text(encoding="utf-8")
    table = _metrics_table(html)
    assert "Δ after − before" in table and "Aligned − Base model" in table
    # goodness@0.1 rises a lot (harm 0.45 -> 0.1): a signed change whose interval excludes 0
    row = table[table.index("goodness@0.1"):]
    row = row[:row.index("</tr>")]
    assert re.search(r'class="num delta sig better"><span class="point">\+\d\.\d{3}</span> '
                     r'<span class="ci">\[\+\d\.\d{3}, \+\d\.\d{3}\]', row)
    assert "What changed" in html and "Comparable with published results" in table
    # paired examples: same prompt in both runs, original request next to the jailbroken prompt
    pairs = html[html.index("Before &rarr; after"):html.index('id="plot-pareto"')]
    assert "better after" in pairs and "paired answers changed grade" in pairs
    assert "Original request" in pairs and "Sent to the model (jailbreak: " in pairs
    assert "Before: Base model" in pairs and "After: Aligned" in pairs
    assert INJECTION not in html and "<script" not in html
    md = out.with_suffix(".md").read_text(encoding="utf-8")
    assert "Δ after − before" in md and "## Before → after: the same prompts" in md
    assert "**What changed**" in md and "comparable with published results" in md


def test_identical_runs_change_nothing(tmp_path: Path) -> None:
    run = make_run(tmp_path, "r", harm=0.3, comply=0.7, seed=3)
    html = build_report([run, run], tmp_path / "same.html", n_boot=100).read_text(encoding="utf-8")
    table = _metrics_table(html)
    assert "delta sig" not in table
    assert '+0.000</span> <span class="ci">[+0.000, +0.000]' in table
    assert "No metric changed beyond its 95% paired interval" in html
    assert "0 of 32 paired answers changed grade" in html  # StrongREJECT: 8 prompts x 4
    assert 'class="example pair' not in html  # no grade changed: no paired examples
    single = build_report([run], tmp_path / "one.html", n_boot=20).read_text(encoding="utf-8")
    assert "Δ" not in _metrics_table(single) and "What changed" not in single


def test_deltas_use_the_prompts_in_both_runs(tmp_path: Path) -> None:
    small = make_run(tmp_path, "small", harm=0.4, comply=0.8, seed=1, n_prompts=6)
    big = make_run(tmp_path, "big", harm=0.2, comply=0.8, seed=2, n_prompts=8)
    html = build_report([small, big], tmp_path / "r.html", n_boot=50).read_text(encoding="utf-8")
    assert "deltas over the 6 prompts in both runs (6 and 8 prompts)" in html


def test_comparability_per_metric(tmp_path: Path) -> None:
    official = {"strongreject": {"jailbreaks": JAILBREAKS, "official": True, "dropped": [],
                                 "comparability": "StrongREJECT (official jailbreaks)"}}
    graded = make_run(tmp_path, "graded", harm=0.3, comply=0.8, seed=1, grader="openai/judge",
                      described=official)
    html = build_report([graded], tmp_path / "a.html", n_boot=0).read_text(encoding="utf-8")
    table = _metrics_table(html)
    assert "yes (official jailbreaks; graded by openai/judge)" in table
    assert "yes (LLM grader openai/judge with XSTest&#39;s three labels" in table
    assert "no (specific to your spec)" in table
    assert "no (no published counterpart" in table  # StrongREJECT refusal_rate
    old = make_run(tmp_path, "old", harm=0.3, comply=0.8, seed=2)  # no details.suites
    table = _metrics_table(build_report([old], tmp_path / "b.html", n_boot=0).read_text("utf-8"))
    assert "no (the run does not record whether its jailbreaks are official)" in table
    assert "no (automatic grader; agreement with XSTest&#39;s human labels: see README)" in table
    both = build_report([old, graded], tmp_path / "c.html", n_boot=0).read_text("utf-8")
    both = _metrics_table(both)
    assert 'class="comparable mixed"' in both and "Old: no" not in both and "org/old: no (" in both


def test_refusal_rate_is_the_headline_without_a_rubric_grader(tmp_path: Path) -> None:
    run = make_run(tmp_path, "nogr", harm=0.3, comply=0.8, seed=4)
    for suite in ("strongreject",):
        file = run / suite / "results.jsonl"
        rows = [EvalResult.model_validate_json(x) for x in file.read_text().splitlines()]
        file.write_text("".join(r.model_copy(update={"score": None}).model_dump_json() + "\n"
                                for r in rows))
    (run / "metrics.json").unlink()
    html = build_report([run], tmp_path / "r.html", n_boot=50).read_text(encoding="utf-8")
    table = _metrics_table(html)
    sr = table[table.index("StrongREJECT</td>"):table.index("XSTest</td>")]
    assert "<strong>refusal_rate</strong>" in sr  # the suite's headline number
    assert "n/a in these runs: <strong>goodness@0.1</strong>" in sr and "--grader" in sr
    assert 'id="plot-pareto"' in html and "y = StrongREJECT refusal_rate" in html


def test_pareto_labels_of_runs_on_one_spot_are_stacked_and_kept_inside_the_axes():
    from deliberate.report.plots import label_places

    places = label_places([(0.9, 0.4), (1.0, 0.0), (1.0, 0.0), (0.1, 0.0)], 0.0, 1.0)
    assert places[0] == (-7, 7, "right")  # right quarter: label to the left of its point
    assert places[1][1] != places[2][1]  # same spot: one above the other
    assert places[3] == (7, 7, "left")
