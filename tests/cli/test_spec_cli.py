"""``deliberate spec ...`` through the real entry point: exit codes and messages."""

from __future__ import annotations

import subprocess
import sys

from deliberate.cli.app import main


def test_version(capsys):
    assert main(["--version"]) == 0
    assert "deliberate 0.1.0" in capsys.readouterr().out


def test_validate_ok(mini_spec_path, capsys):
    assert main(["spec", "validate", str(mini_spec_path)]) == 0
    assert "2 categories" in capsys.readouterr().out


def test_validate_bad_exit_2_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\n")
    assert main(["spec", "validate", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {bad}") and "\n" not in err


def test_show_category(mini_spec_path, capsys):
    assert main(["spec", "show", str(mini_spec_path), "--category", "violence", "--hash"]) == 0
    out = capsys.readouterr().out
    assert "[violence.2]" in out and "self_harm" not in out.split("content hash")[0]
    assert "content hash:" in out


def test_show_unknown_category(mini_spec_path, capsys):
    assert main(["spec", "show", str(mini_spec_path), "--category", "nope"]) == 2
    assert "unknown category 'nope'" in capsys.readouterr().err


def test_categories_one_per_line(mini_spec_path, capsys):
    assert main(["spec", "categories", str(mini_spec_path)]) == 0
    assert capsys.readouterr().out.splitlines() == ["violence\tViolence", "self_harm\tSelf-harm"]


def test_module_entry_point_and_no_heavy_imports(mini_spec_path):
    code = (
        "import sys; from deliberate.cli.app import main; rc = main(['spec','categories',"
        f"{str(mini_spec_path)!r}]); heavy = [m for m in ('torch','transformers','datasets') "
        "if m in sys.modules]; print(rc, heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().endswith("0 []")
    proc = subprocess.run(
        [sys.executable, "-m", "deliberate.cli", "spec", "validate", str(mini_spec_path)],
        capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 0 and "ok:" in proc.stdout
