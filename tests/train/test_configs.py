"""Every shipped config loads and validates; flags override YAML."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml

pytest.importorskip("trl")

from deliberate.errors import DeliberateError
from deliberate.train.config import RLTrainConfig, SFTTrainConfig, load_config, parse_config

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
TRAINING = {"sft.yaml": SFTTrainConfig, "rl.yaml": RLTrainConfig}
ACCELERATE = sorted((CONFIGS / "accelerate").glob("*.yaml"))


def first_line(path: Path) -> str:
    return path.read_text().splitlines()[0]


def test_every_shipped_config_is_covered():
    assert {p.name for p in CONFIGS.glob("*.yaml")} == set(TRAINING)


@pytest.mark.parametrize("name", sorted(TRAINING))
def test_training_config_loads(name):
    path = CONFIGS / name
    assert first_line(path) == f"# deliberate {name[:-5]} --config configs/{name}"
    config = load_config(TRAINING[name], str(path))
    data = yaml.safe_load(path.read_text())
    trl_base = TRAINING[name].__mro__[1]  # SFTConfig / GRPOConfig: normalizes some values itself
    ours = {f.name for f in dataclasses.fields(TRAINING[name])} - {f.name for f in dataclasses.fields(trl_base)}
    assert {"model", "dataset"} <= ours & set(data)
    for key in ours & set(data):
        assert getattr(config, key) == data[key], key
    assert config.output_dir == data["output_dir"]


def test_rl_config_rewards():
    config = load_config(RLTrainConfig, str(CONFIGS / "rl.yaml"))
    assert config.reward_funcs == ["judge", "format"] and config.reward_weights == [1.0, 0.2]
    assert config.use_vllm and config.vllm_mode == "colocate"


def test_accelerate_configs():
    from accelerate.commands.config.config_args import ClusterConfig

    names = {p.name for p in ACCELERATE}
    assert names == {"single_gpu.yaml", "multi_gpu_ddp.yaml", "deepspeed_zero3.yaml", "fsdp.yaml", "cpu_2proc.yaml"}
    for path in ACCELERATE:
        assert first_line(path).startswith(f"# accelerate launch --config_file configs/accelerate/{path.name} ")
        data = yaml.safe_load(path.read_text())
        assert {"distributed_type", "num_processes", "num_machines", "mixed_precision"} <= set(data)
        ClusterConfig.from_yaml_file(str(path))  # accelerate's own schema: rejects unknown keys
    assert yaml.safe_load((CONFIGS / "accelerate" / "cpu_2proc.yaml").read_text())["num_processes"] == 2


def test_flags_override_yaml():
    args = ["--config", str(CONFIGS / "sft.yaml"), "--max-steps", "3", "--output-dir", "elsewhere",
            "--model", "hf/tiny", "--use_lora", "true"]
    config = parse_config(SFTTrainConfig, args)
    assert (config.max_steps, config.output_dir, config.model, config.use_lora) == (3, "elsewhere", "hf/tiny", True)
    assert config.think_format == "auto" and config.learning_rate == 1e-5  # from the YAML


def test_rl_defaults_depend_on_the_judge():
    plain = RLTrainConfig(model="hf/m", dataset="p.jsonl", output_dir="o", report_to="none")
    judged = RLTrainConfig(model="hf/m", dataset="p.jsonl", output_dir="o", judge="openai/j", report_to="none")
    assert (plain.reward_funcs, plain.reward_weights) == (["refusal_mode", "format"], [1.0, 0.2])
    assert (judged.reward_funcs, judged.reward_weights) == (["judge", "format"], [1.0, 0.2])


@pytest.mark.parametrize("args, message", [
    (["--dataset", "d.jsonl"], "no model"),
    (["--model", "hf/m", "--dataset", "d", "--think_format", "html"], "invalid choice"),
    (["--model", "hf/m", "--dataset", "d", "--merge_lora", "true"], "needs --use_lora"),
    (["--model", "openai/gpt", "--dataset", "d", "--mix_ratio", "1.5"], "mix_ratio"),
    (["--model", "hf/m", "--dataset", "d", "--nonsense", "1"], "nonsense"),
])
def test_bad_sft_configs(args, message, capsys):
    with pytest.raises((DeliberateError, SystemExit)) as info:
        parse_config(SFTTrainConfig, [*args, "--output-dir", "o"])
    assert message in str(info.value) + capsys.readouterr().err


def test_bad_rl_configs():
    with pytest.raises(DeliberateError, match="needs --judge"):
        RLTrainConfig(model="hf/m", dataset="p", output_dir="o", reward_funcs=["judge"])
    with pytest.raises(DeliberateError, match="unknown reward"):
        RLTrainConfig(model="hf/m", dataset="p", output_dir="o", reward_funcs=["vibes"])
    with pytest.raises(DeliberateError, match="reward_weights"):
        RLTrainConfig(model="hf/m", dataset="p", output_dir="o", reward_weights=[1.0])


def test_cli_reports_config_errors_in_one_line(capsys):
    from deliberate.cli.app import main

    assert main(["sft", "--dataset", "d.jsonl"]) == 2
    assert "error: no model given" in capsys.readouterr().err
    assert main(["rl", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--judge" in out and "--config" in out  # the project's options, and --config, are listed


def test_report_to_passes_through_to_the_trainer(tmp_path):
    flags = ["--model", "hf/m", "--dataset", "d", "--output-dir", "o"]
    config = parse_config(SFTTrainConfig, [*flags, "--report_to", "tensorboard", "--run_name", "exp1"])
    assert config.report_to == ["tensorboard"] and config.run_name == "exp1"
    yaml_file = tmp_path / "c.yaml"
    yaml_file.write_text("report_to: [wandb, trackio]\n")
    assert parse_config(RLTrainConfig, ["--config", str(yaml_file), *flags]).report_to == ["wandb", "trackio"]
    assert parse_config(RLTrainConfig, [*flags, "--report_to", "none"]).report_to == []


@pytest.mark.parametrize("env, warned", [
    ({"ACCELERATE_USE_CPU": "True", "MASTER_ADDR": "127.0.0.1"}, True),  # `accelerate launch --cpu --num_processes 2`
    ({"ACCELERATE_USE_CPU": "True", "MASTER_ADDR": "127.0.0.1", "WORLD_SIZE": "2"}, False),  # torchrun
    ({"ACCELERATE_USE_CPU": "True", "MASTER_ADDR": "127.0.0.1", "PMI_SIZE": "2"}, False),  # mpirun
    ({"ACCELERATE_USE_CPU": "True"}, False),  # `accelerate launch --cpu` with one process
    ({}, False),
])
def test_warns_when_accelerate_cpu_launch_started_one_process(env, warned, monkeypatch, caplog):
    """Checked on the environment alone: a config built under WORLD_SIZE=2 would wait for rank 1."""
    from deliberate.train.config import _check_launch

    for name in ("ACCELERATE_USE_CPU", "MASTER_ADDR", "WORLD_SIZE", "PMI_SIZE", "OMPI_COMM_WORLD_SIZE",
                 "MV2_COMM_WORLD_SIZE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with caplog.at_level("WARNING", logger="deliberate.train.config"):
        _check_launch()
    assert ("started a single process" in caplog.text) == warned
