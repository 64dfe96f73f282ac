"""The packaged encoder, checkpoint save/load round trips, atomic saving, and compatibility of
a saved checkpoint with ``transformers.pipeline``."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import sys
from pathlib import Path

import pytest
import torch
from support import train_tiny, two_sentences

from tagger import model as model_mod
from tagger.align import N_CASE_CLASSES
from tagger.config import TrainConfig
from tagger.model import ModelError, build_tagger, load_tagger, save_tagger
from tagger.predict import Predictor

SENTENCES = [s.words for s in two_sentences()]
GOLD = [s.tags for s in two_sentences()]
OTHER = [["Paris", "visited", "John", "today"], ["Angela", "lives", "in", "Berlin"]]


@pytest.fixture(scope="module")
def casing_tagger(tiny_base: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Like ``tiny_tagger`` but with the casing head."""
    return train_tiny(tiny_base, tmp_path_factory.mktemp("tiny-casing") / "model", "casing")


@pytest.fixture(params=["linear", "casing"])
def checkpoint(request: pytest.FixtureRequest) -> Path:
    return request.getfixturevalue("tiny_tagger" if request.param == "linear" else "casing_tagger")


def tree(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_model_packaged_minilm_loads_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub.constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)

    def no_network(*args, **kwargs):
        raise AssertionError("tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    tagger = build_tagger(TrainConfig(), ["O", "B-PER", "I-PER"])
    cfg = tagger.model.hf.config
    assert (cfg.num_hidden_layers, cfg.hidden_size) == (6, 384)
    assert tagger.labels == ["O", "B-PER", "I-PER"]
    assert tagger.model.head == "casing" and tagger.model.casing.weight.shape == (N_CASE_CLASSES, 384)
    assert tagger.tokenizer.is_fast
    assert tagger.tokenizer.tokenize("Paris") == ["paris"]  # uncased WordPiece
    ids = torch.tensor([tagger.tokenizer("Angela visited Paris")["input_ids"]])
    with torch.inference_mode():
        logits = tagger.model(ids, torch.ones_like(ids), torch.zeros_like(ids))
    assert logits.shape == (1, ids.shape[1], 3)


def test_model_resolve_base_errors() -> None:
    assert model_mod.resolve_base("bert-base-cased") == "bert-base-cased"
    with pytest.raises(ModelError, match="not installed"):
        model_mod.resolve_base("packaged:no-such-package-here")


def test_model_overfit_save_reload_same_predictions(checkpoint: Path, tmp_path: Path) -> None:
    a = load_tagger(checkpoint)
    pa = Predictor(a).tag_words(SENTENCES + OTHER)
    assert [[label for label, _ in p] for p in pa[:2]] == GOLD  # overfit, saved, reloaded
    copy = save_tagger(a, tmp_path / "copy")
    b = load_tagger(copy)
    assert b.labels == a.labels and b.config == a.config and b.model.head == a.model.head
    assert b.meta["best_epoch"] == a.meta["best_epoch"] and b.meta["dev"] == a.meta["dev"]
    pb = Predictor(b).tag_words(SENTENCES + OTHER)
    for x, y in zip(pa, pb):
        assert [label for label, _ in x] == [label for label, _ in y]
        assert [s for _, s in x] == pytest.approx([s for _, s in y], abs=1e-6)
    # fp16 storage halves the size and keeps the labels
    half = load_tagger(save_tagger(a, tmp_path / "half", fp16=True))
    ph = Predictor(half).tag_words(SENTENCES + OTHER)
    assert [[label for label, _ in p] for p in ph[:2]] == GOLD
    assert (tmp_path / "half" / "model.safetensors").stat().st_size < 0.6 * (copy / "model.safetensors").stat().st_size


def test_model_checkpoint_folder_contents(checkpoint: Path) -> None:
    names = {p.name for p in checkpoint.iterdir()}
    assert {"model.safetensors", "config.json", "tokenizer.json", "tokenizer_config.json", "tagger.json"} <= names
    assert not {"pytorch_model.bin", "training_args.bin"} & names
    config = json.loads((checkpoint / "config.json").read_text())
    meta = json.loads((checkpoint / "tagger.json").read_text())
    labels = ["O", "B-LOC", "I-LOC", "B-PER", "I-PER"]
    assert config["id2label"] == {str(i): label for i, label in enumerate(labels)}
    assert config["label2id"] == {label: i for i, label in enumerate(labels)}
    assert meta["labels"] == labels
    assert meta["config"]["head"] == meta["head"]
    # the casing embedding travels folded into the token types, with tokenizer code for trust_remote_code
    assert "casing.safetensors" not in names and "README.md" in names
    assert ("tagger_casing.py" in names) == (meta["head"] == "casing") == (meta["casing_in"] == "token_type_ids")
    assert {"dev", "best_epoch", "history", "train_sentences"} <= set(meta)
    assert not [n for n in names if n.startswith(".")]


@pytest.mark.parametrize("where", ["tokenizer", "export", "meta"])
def test_model_failed_save_leaves_no_half_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, casing_tagger: Path, where: str) -> None:
    tagger = load_tagger(casing_tagger)
    target = tmp_path / "out"

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    if where == "tokenizer":
        monkeypatch.setattr(tagger.tokenizer, "save_pretrained", boom)
    elif where == "export":  # the casing head's files for transformers (tagger.export)
        monkeypatch.setattr(model_mod.export, "write_files", boom)
    else:
        monkeypatch.setattr(model_mod.json, "dumps", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        save_tagger(tagger, target)
    assert list(tmp_path.iterdir()) == []  # no target, no temporary folder
    # an existing model stays as it was
    monkeypatch.undo()
    save_tagger(tagger, target)
    before = tree(target)
    monkeypatch.setattr(tagger.tokenizer, "save_pretrained", boom)
    with pytest.raises(RuntimeError):
        save_tagger(tagger, target)
    assert tree(target) == before
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_model_failed_final_rename_keeps_old_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tiny_tagger: Path) -> None:
    tagger = load_tagger(tiny_tagger)
    target = save_tagger(tagger, tmp_path / "out")
    before = tree(target)
    real = os.replace
    calls = []

    def flaky(src, dst):
        calls.append(src)
        if len(calls) == 2:
            raise OSError("rename failed")
        return real(src, dst)

    monkeypatch.setattr(model_mod.os, "replace", flaky)
    monkeypatch.setattr(model_mod, "_exchange", lambda a, b: False)  # the two-rename fallback
    with pytest.raises(OSError):
        save_tagger(tagger, target)
    monkeypatch.undo()
    assert target.is_dir() and tree(target) == before


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="renameat2 is Linux-only")
def test_model_resave_swaps_folders_in_one_step(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tiny_tagger: Path) -> None:
    """On Linux the new model replaces the old one by an atomic exchange: no moment without a
    model at the path, so no rename that could leave the old one aside."""
    tagger = load_tagger(tiny_tagger)
    out = save_tagger(tagger, tmp_path / "out")
    (out / "stale.txt").write_text("from an older save")

    def no_rename(src, dst):
        raise AssertionError(f"renamed {src} -> {dst}; expected one exchange")

    monkeypatch.setattr(model_mod.os, "replace", no_rename)
    save_tagger(tagger, out)
    monkeypatch.undo()
    assert not (out / "stale.txt").exists() and (out / "model.safetensors").is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_model_resave_over_existing_checkpoint(tmp_path: Path, tiny_tagger: Path) -> None:
    tagger = load_tagger(tiny_tagger)
    out = save_tagger(tagger, tmp_path / "out")
    (out / "stale.txt").write_text("from an older save")
    tagger.meta["note"] = "second"
    save_tagger(tagger, out)
    assert not (out / "stale.txt").exists()
    assert json.loads((out / "tagger.json").read_text())["note"] == "second"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_model_refuses_pickle_weights(tmp_path: Path, tiny_tagger: Path) -> None:
    """Only safetensors are loaded: a folder with just pytorch_model.bin is an error, not unpickled."""
    folder = tmp_path / "pickled"
    folder.mkdir()
    for name in ("config.json", "tokenizer.json", "tokenizer_config.json"):
        (folder / name).write_bytes((tiny_tagger / name).read_bytes())
    torch.save({"x": torch.zeros(1)}, folder / "pytorch_model.bin")
    with pytest.raises(ModelError, match="cannot load model"):
        load_tagger(folder)


def test_model_build_from_checkpoint_checks_labels_and_head(tiny_tagger: Path) -> None:
    labels = load_tagger(tiny_tagger).labels
    again = build_tagger(TrainConfig(base=str(tiny_tagger), head="linear"), labels)
    assert again.labels == labels
    with pytest.raises(ModelError, match="differ from the data"):
        build_tagger(TrainConfig(base=str(tiny_tagger), head="linear"), ["O", "B-ORG", "I-ORG"])
    with pytest.raises(ModelError, match="'linear' head"):
        build_tagger(TrainConfig(base=str(tiny_tagger), head="casing"), labels)


def test_model_transformers_pipeline_agrees(tiny_tagger: Path) -> None:
    from transformers import pipeline

    nlp = pipeline("token-classification", model=str(tiny_tagger), aggregation_strategy="first", device="cpu")
    ours = Predictor.from_dir(tiny_tagger)
    texts = [" ".join(s) for s in SENTENCES + OTHER] + ["Berlin and Paris welcome Angela Merkel"]
    found_any = False
    for text in texts:
        theirs = [(e["entity_group"], e["start"], e["end"]) for e in nlp(text)]
        mine = [(e.label, e.start, e.end) for e in ours.predict(text).entities]
        assert theirs == mine, text
        found_any = found_any or bool(mine)
    assert found_any


@pytest.mark.parametrize("head", ["linear", "casing"])
def test_model_pipeline_gives_our_word_labels_for_every_head(head: str, tiny_tagger: Path, casing_tagger: Path) -> None:
    """Export parity (issue #15): transformers' pipeline gives each word the label our Predictor
    gives (the casing head through trust_remote_code), and a casing checkpoint refuses to load
    without trust_remote_code instead of silently dropping its casing signal."""
    from transformers import pipeline

    folder = tiny_tagger if head == "linear" else casing_tagger
    remote = head == "casing"
    if remote:
        with pytest.raises(ValueError, match="trust_remote_code"):
            pipeline("token-classification", model=str(folder), aggregation_strategy="first", device="cpu")
    nlp = pipeline("token-classification", model=str(folder), aggregation_strategy="none", device="cpu", trust_remote_code=remote)
    ours = Predictor(load_tagger(folder, device="cpu"))
    sentences = SENTENCES + OTHER + [["BERLIN", "and", "paris", "welcome", "Angela", "MERKEL", "2024"]]
    for words, tags in zip(sentences, ours.tag_words(sentences)):
        text = " ".join(words)
        starts = [sum(len(x) + 1 for x in words[:i]) for i in range(len(words))]
        at = {tok["start"]: tok["entity"] for tok in nlp(text)}
        assert [at.get(st, "O") for st in starts] == [label for label, _ in tags], text


@pytest.mark.parametrize("decode", ["argmax", "viterbi"])
def test_model_pipeline_decodes_like_the_predictor(decode: str, casing_tagger: Path, tmp_path: Path) -> None:
    """A casing checkpoint's shipped model class decodes as the checkpoint says: with Viterbi,
    the pipeline gives our repaired (well-formed) labels, including where argmax would not be."""
    import random

    from transformers import pipeline

    tagger = load_tagger(casing_tagger, device="cpu")
    folder = save_tagger(type(tagger)(tagger.model, tagger.tokenizer, tagger.config.replace(decode=decode), tagger.meta), tmp_path / "m")
    assert json.loads((folder / "config.json").read_text())["tagger_decode"] == decode
    rng = random.Random(1)
    vocab = ["Angela", "Merkel", "visited", "Paris", "John", "lives", "in", "Berlin", "now", "BERLIN", "paris", "2024"]
    sentences = [[rng.choice(vocab) for _ in range(rng.randint(1, 25))] for _ in range(40)]
    nlp = pipeline("token-classification", model=str(folder), aggregation_strategy="none", device="cpu", trust_remote_code=True)
    ours = Predictor(load_tagger(folder, device="cpu")).tag_words(sentences)
    argmax = Predictor(load_tagger(casing_tagger, device="cpu").__class__(
        tagger.model, tagger.tokenizer, tagger.config.replace(decode="argmax"), tagger.meta)).tag_words(sentences)
    repaired = 0
    for words, tags, plain in zip(sentences, ours, argmax):
        text = " ".join(words)
        starts = [sum(len(x) + 1 for x in words[:i]) for i in range(len(words))]
        at = {tok["start"]: tok["entity"] for tok in nlp(text)}
        assert [at.get(st, "O") for st in starts] == [label for label, _ in tags], text
        repaired += [label for label, _ in tags] != [label for label, _ in plain]
    assert (repaired > 0) == (decode == "viterbi")  # the random word salads do get repaired
