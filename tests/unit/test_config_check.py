"""`python -m analysis.launch FILE` (and `make check CONFIG=...`): what Snakemake
reports as a raw traceback or a message without file or line, named by the project."""

import subprocess
import sys

import pytest

from analysis.launch import main
from tests.conftest import ROOT


def check(capsys, *argv):
    with pytest.raises(SystemExit) as exit_info:
        main([*map(str, argv)])
    assert exit_info.value.code == 1
    return capsys.readouterr().err.strip()


def test_a_yaml_syntax_error_names_file_and_line(tmp_path, capsys):
    path = tmp_path / "bad.yaml"
    path.write_text("grid:\n  datasets: [8gaussians\ntrain: {steps: 5}\n")
    assert check(capsys, path).startswith(f"error: {path}, line 3, column 6: ")


def test_a_bad_value_names_file_line_and_key(tmp_path, capsys):
    path = tmp_path / "bad.yaml"
    path.write_text("grid:\n  datasets: [8gaussians]\nvariants:\n  pacgan: {pack: 1}\n")
    assert check(capsys, path) == (
        f"error: {path}, line 4: config key 'variants.pacgan.pack': 1 is less than the minimum of 2 (pacgan's pack)"
    )


def test_a_missing_file_is_named(tmp_path, capsys):
    assert check(capsys, tmp_path / "none.yaml").startswith(f"error: config file not found: {tmp_path / 'none.yaml'}")


def test_a_dotted_config_key_is_given_its_nested_form(capsys):
    message = check(capsys, ROOT / "config/config.yaml", "--config", "train.steps=5")
    assert (
        message
        == "error: --config 'train.steps=5': Snakemake takes no dotted key; write --config 'train={\"steps\": VALUE}'"
    )


def test_config_values_are_checked_over_the_file(capsys):
    message = check(capsys, ROOT / "config/config.yaml", "--config", 'train={"steps": -1}')
    path = ROOT / "config/config.yaml"
    assert message == f"error: {path} with --config: config key 'train.steps': -1 is less than the minimum of 1"


def test_a_valid_file_is_said_valid_and_the_command_line_works():
    out = subprocess.run(
        [sys.executable, "-m", "analysis.launch", "config/config.yaml", "--config", 'train={"steps": 5}'],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0 and out.stderr.strip().endswith("config/config.yaml: valid"), out.stderr
    assert "check: setup" in (ROOT / "Makefile").read_text()


@pytest.mark.parametrize(
    "text, words",
    [
        ("train: {steps: 20}\ntrain: {steps: 30}\n", "line 2: config key 'train' is given twice (first on line 1)"),
        ("train:\n  steps: 20\n  batch_size: 8\n  steps: 30\n", "line 4: config key 'train.steps' is given twice"),
        ("grid:\n  - {datasets: [8gaussians], seeds: [0], seeds: [1]}\n", "config key 'grid.0.seeds' is given twice"),
    ],
)
def test_a_key_given_twice_is_refused_naming_both_lines(tmp_path, capsys, text, words):
    path = tmp_path / "twice.yaml"
    path.write_text(text)  # YAML would keep the last value without a word
    message = check(capsys, path)
    assert message.startswith(f"error: {path}, ") and words in message and message.endswith("; keep one")


def test_a_file_without_settings_is_refused(tmp_path, capsys):
    path = tmp_path / "empty.yaml"
    path.write_text("# nothing set\n")
    assert check(capsys, path) == f"error: {path} holds no settings; write the keys to change, or {{}} for the defaults"


def test_a_bad_list_item_given_with_config_names_the_command_line(capsys):
    message = check(capsys, ROOT / "config/config.yaml", "--config", 'grid={"seeds": [0, "x"]}')
    assert message.startswith(f"error: {ROOT / 'config/config.yaml'} with --config: config key 'grid.seeds.1'")


def test_a_device_this_machine_lacks_is_a_note_not_an_error(capsys, monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 0)
    assert main([str(ROOT / "config/config.yaml"), "--config", 'train={"device": "cuda"}']) == 0
    said = capsys.readouterr().err
    assert "note: config key 'train.device': 'cuda' is not on this machine" in said and "valid" in said
