"""tagger.preflight: the checks before training, shared by the CLI's train and the app's Fine-tune tab."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support import DEV_FILE, TRAIN_FILE

from tagger.config import TrainConfig
from tagger.errors import ConfigError, DataError, ModelError, TaggerError, TrainingError
from tagger.preflight import preflight

pytestmark = pytest.mark.unit


def fake_base(folder: Path, positions: int = 64, meta: dict | None = None) -> Path:
    """A model folder as preflight sees it: config.json (and tagger.json for one of our checkpoints)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps({"max_position_embeddings": positions}), encoding="utf-8")
    if meta is not None:
        (folder / "tagger.json").write_text(json.dumps(meta), encoding="utf-8")
    return folder


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_preflight_passes_and_describes_the_run(tmp_path: Path) -> None:
    base = fake_base(tmp_path / "base")
    checked = preflight(TrainConfig(base=str(base), max_length=64), TRAIN_FILE, DEV_FILE)
    assert checked.labels == ["O", "B-LOC", "I-LOC", "B-MISC", "I-MISC", "B-ORG", "I-ORG", "B-PER", "I-PER"]
    assert checked.max_positions == 64 and checked.base_path == str(base)
    assert len(checked.data.train) == 40 and checked.data.dev_report is not None
    held = preflight(TrainConfig(base=str(base), max_length=64), TRAIN_FILE)
    assert len(held.data.train) + len(held.data.dev) == 40 and held.data.dev_report is None
    assert held.summary.startswith(f"{len(held.data.train)} training sentences, {len(held.data.dev)} dev sentences (held out)")


@pytest.mark.parametrize(
    ("train", "dev", "error", "message"),
    [
        ("Paris B-LOC\n", None, DataError, "need at least 2 sentences"),
        ("a O\n\nb O\n", None, TrainingError, "single label"),
        ("one\ncolumn\n", None, DataError, "line 1"),
        ("Paris B-LOC\n\nBerlin B-LOC\n", "Angela B-PER\n", TrainingError, "the dev data has labels the training data lacks: PER"),
    ],
)
def test_preflight_refuses_bad_data(tmp_path: Path, train: str, dev: str | None, error: type, message: str) -> None:
    base = fake_base(tmp_path / "base")
    dev_path = write(tmp_path / "dev.conll", dev) if dev else None
    with pytest.raises(error, match=message):
        preflight(TrainConfig(base=str(base), max_length=64), write(tmp_path / "train.conll", train), dev_path)


def test_preflight_checks_the_base(tmp_path: Path) -> None:
    base = fake_base(tmp_path / "base", positions=64)
    with pytest.raises(ConfigError, match="Max length 128 is more than the base model's limit of 64 positions"):
        preflight(TrainConfig(base=str(base), max_length=128), TRAIN_FILE, DEV_FILE)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match="not a model folder"):
        preflight(TrainConfig(base=str(tmp_path / "empty")), TRAIN_FILE, DEV_FILE)
    with pytest.raises(ModelError, match="no such model folder"):
        preflight(TrainConfig(base=str(tmp_path / "missing")), TRAIN_FILE, DEV_FILE)
    with pytest.raises(ModelError, match="is not installed"):
        preflight(TrainConfig(base="packaged:no-such-package-here"), TRAIN_FILE, DEV_FILE)
    assert preflight(TrainConfig(base="bert-base-cased"), TRAIN_FILE, DEV_FILE).max_positions is None  # a hub id: not checked offline


def test_preflight_checkpoint_base_needs_same_labels_and_head(tmp_path: Path) -> None:
    labels = ["O", "B-LOC", "I-LOC", "B-MISC", "I-MISC", "B-ORG", "I-ORG", "B-PER", "I-PER"]
    same = fake_base(tmp_path / "same", meta={"labels": labels, "config": {"head": "casing"}})
    assert preflight(TrainConfig(base=str(same), head="casing", max_length=64), TRAIN_FILE, DEV_FILE).labels == labels
    with pytest.raises(ModelError, match="has a 'casing' head, the settings ask for 'linear'"):
        preflight(TrainConfig(base=str(same), head="linear", max_length=64), TRAIN_FILE, DEV_FILE)
    other = fake_base(tmp_path / "other", meta={"labels": ["O", "B-PER", "I-PER"], "config": {"head": "casing"}})
    with pytest.raises(ModelError, match="differ from the data's"):
        preflight(TrainConfig(base=str(other), max_length=64), TRAIN_FILE, DEV_FILE)


def test_preflight_errors_are_tagger_errors_the_cli_prints_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from tagger.cli import main

    base = fake_base(tmp_path / "base", positions=64)
    code = main(["train", "--train", str(TRAIN_FILE), "--base", str(base), "--max-length", "128", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and err == "error: Max length 128 is more than the base model's limit of 64 positions\n"
    assert not (tmp_path / "out").exists()
    assert issubclass(ConfigError, TaggerError)
