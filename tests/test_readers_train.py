"""Training reads every format: several files of different formats as the training set, a dev
file in yet another, through the CLI (tiny base, seconds)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support import FIXTURES

from tagger.cli import main

R = FIXTURES / "readers"


def test_readers_train_cli_mixed_formats(tiny_base: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "model"
    rc = main([
        "train", "--train", str(R / "doccano.jsonl"), str(R / "prodigy.jsonl"), str(R / "labelstudio.json"),
        "--dev", str(R / "doccano_entities.jsonl"), "--test", str(R / "doccano_old.jsonl"), str(R / "doccano_entities.jsonl"),
        "--base", str(tiny_base), "--head", "linear", "--epochs", "1", "--batch-size", "4", "--max-length", "32", "--out", str(out),
    ])
    assert rc == 0, capsys.readouterr().err
    meta = json.loads((out / "tagger.json").read_text())
    report = meta["data_report"]
    assert report["format"] == "doccano+prodigy+labelstudio"
    assert report["sentences"] == 9 + 5 + 3 and len(report["sources"]) == 3
    assert report["conversion"]["spans: snapped to whole words"] == 1
    assert meta["test_file"] == "doccano_old.jsonl, doccano_entities.jsonl"
    assert {"B-DRUG", "B-PER", "B-LOC", "B-ORG"} <= set(meta["labels"])


def test_readers_train_cli_dev_labels_missing_from_train(tiny_base: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["train", "--train", str(R / "prodigy.jsonl"), "--dev", str(R / "doccano.jsonl"), "--base", str(tiny_base),
               "--epochs", "1", "--out", str(tmp_path / "m")])
    assert rc == 2
    assert capsys.readouterr().err.strip().startswith("error: the dev data has labels the training data lacks: LOC, ORG, PER")
    assert not (tmp_path / "m").exists()
