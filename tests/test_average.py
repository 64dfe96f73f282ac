"""Averaging taggers' weights (``tagger.average``, ``python -m tagger average``): the saved model's
weights are the mean, it reloads and tags, its metadata says what was averaged, and models that
cannot be averaged are refused with a message naming the model and the reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from support import train_tiny, two_sentences_conll

from tagger.average import average_taggers
from tagger.cli import main
from tagger.errors import ModelError
from tagger.model import load_tagger, save_tagger
from tagger.predict import Predictor

TRAIN_TEXT = two_sentences_conll()


@pytest.fixture(scope="module")
def seeds(tiny_base: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("seeds")
    return [train_tiny(tiny_base, folder / f"s{seed}", "casing", seed=seed) for seed in (1, 2, 3)]


def test_average_weights_are_the_mean_and_reload(seeds: list[Path], tmp_path: Path) -> None:
    states = [load_tagger(p, device="cpu").model.state_dict() for p in seeds]
    head = next(k for k in states[0] if k.endswith("classifier.weight"))
    assert not torch.equal(states[0][head], states[1][head])  # different seeds, different weights
    out = save_tagger(average_taggers(seeds), tmp_path / "avg")
    back = load_tagger(out, device="cpu")
    for key, value in back.model.state_dict().items():
        if value.is_floating_point():
            torch.testing.assert_close(value, sum(s[key] for s in states) / 3, rtol=0, atol=1e-6, msg=key)
    assert back.model.head == "casing" and back.labels == load_tagger(seeds[0], device="cpu").labels
    assert [m["seed"] for m in back.meta["averaged_from"]] == [1, 2, 3]
    assert "test" not in back.meta and "history" not in back.meta  # the first model's scores are not the average's
    tags = Predictor(back).tag_words([["Angela", "Merkel", "visited", "Paris", "today", "."]])[0]
    # whether the mean tags well depends on the models sharing a basin (real fine-tunes of one base usually do; these
    # tiny random-base ones, trained hard at a high learning rate, need not): here only that it loads and tags
    assert len(tags) == 6 and {label for label, _ in tags} <= set(back.labels)


def test_average_refuses_models_of_another_recipe(seeds: list[Path], tiny_base: Path, tmp_path: Path) -> None:
    linear = train_tiny(tiny_base, tmp_path / "linear", "linear")
    with pytest.raises(ModelError, match=r"cannot average '.*linear' with '.*s1': its head 'linear' differs"):
        average_taggers([seeds[0], linear])
    other = load_tagger(seeds[1], device="cpu")
    renamed = [label.replace("PER", "ORG") for label in other.labels]
    other.model.hf.config.id2label = dict(enumerate(renamed))
    other.model.hf.config.label2id = {label: i for i, label in enumerate(renamed)}
    save_tagger(other, tmp_path / "labels")
    with pytest.raises(ModelError, match="its labels"):
        average_taggers([seeds[0], tmp_path / "labels"])
    with pytest.raises(ModelError, match="at least two"):
        average_taggers([seeds[0]])


def test_cli_average_scores_and_writes(seeds: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "train.txt"
    data.write_text(TRAIN_TEXT)
    out = tmp_path / "avg"
    assert main(["average", *map(str, seeds[:2]), "--out", str(out), "--test", str(data), "--fp16", "--decode", "argmax"]) == 0
    meta = json.loads((out / "tagger.json").read_text())
    assert meta["config"]["decode"] == "argmax" and json.loads((seeds[0] / "tagger.json").read_text())["config"]["decode"] == "auto"
    assert meta["test"]["f1"] == 100.0 and meta["test_file"] == "train.txt"
    assert len(meta["averaged_from"]) == 2
    assert main(["average", str(seeds[0]), str(tmp_path / "missing"), "--out", str(tmp_path / "x")]) == 2
    assert "missing" in capsys.readouterr().err and not (tmp_path / "x").exists()  # no half-written model
