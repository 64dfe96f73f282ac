"""Continuing a trained tagger (``TrainConfig.init_from``): the label map grows with the old rows
kept bit for bit, the new label is learnt, the old ones survive data that never annotates them,
the old model's F1 on the dev data is stored next to the new one, and bad inputs fail early with
nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from support import DEFAULT_MODEL, SHARED_DATA, needs_default, needs_shared, train_tiny

from tagger.config import TrainConfig
from tagger.data import Sentence
from tagger.errors import ConfigError, DataError, ModelError, TrainingError
from tagger.model import GrownClassifier, build_tagger, load_tagger, save_tagger
from tagger.predict import Predictor
from tagger.preflight import preflight
from tagger.train import TrainEvent, evaluate_tagger, train

# the tiny tagger knows PER and LOC (tests/support.py two_sentences); these annotate DRUG only, so
# "Angela Merkel" is O here: not a DRUG, which says nothing about PER
DRUGS = [
    Sentence(["Angela", "Merkel", "took", "aspirin", "today", "."], ["O", "O", "O", "B-DRUG", "O", "O"]),
    Sentence(["John", "takes", "ibuprofen", "now"], ["O", "O", "B-DRUG", "O"]),
]
# few epochs at a high rate: the tiny random base learns in seconds (as tests/support.py TINY_TRAIN)
TINY = {"epochs": 15, "lr": 5e-3, "head_lr": 5e-3, "batch_size": 2, "warmup_ratio": 0.0, "case_lower": 0.0, "case_upper": 0.0,
        "case_unknown": 0.0, "seed": 13}


def _conll(path: Path, sentences: list[Sentence]) -> Path:
    path.write_text("\n\n".join("\n".join(f"{w} {t}" for w, t in zip(s.words, s.tags)) for s in sentences) + "\n", encoding="utf-8")
    return path


def _fake_tagger(folder: Path, labels: list[str]) -> Path:
    """A folder that reads as a tagger checkpoint to the checks (config.json + tagger.json), without weights."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps({"max_position_embeddings": 64}), encoding="utf-8")
    (folder / "tagger.json").write_text(json.dumps({"labels": labels, "config": {"head": "linear", "max_length": 64}}), encoding="utf-8")
    return folder


def _entities(model: Path | str, text: str) -> list[tuple[str, str]]:
    return [(e.text, e.label) for e in Predictor.from_dir(model, device="cpu").predict(text).entities]


@pytest.mark.unit
def test_init_from_grows_the_label_map_and_keeps_the_old_rows_bit_for_bit(tiny_tagger: Path, tmp_path: Path) -> None:
    old = load_tagger(tiny_tagger, device="cpu")
    labels = [*old.labels, "B-DRUG", "I-DRUG"]
    grown = build_tagger(TrainConfig(init_from=str(tiny_tagger), head="linear"), labels)
    head = grown.model.hf.classifier
    assert grown.labels == labels and isinstance(head, GrownClassifier)
    assert torch.equal(head.old.weight, old.model.hf.classifier.weight) and torch.equal(head.old.bias, old.model.hf.classifier.bias)
    assert head.new.weight.shape == (2, head.old.in_features) and 0 < float(head.new.weight.detach().abs().max()) < 0.2
    # the grown model computes the old labels' logits exactly as before
    ids, mask = torch.tensor([[101, 7592, 3000, 102]]), torch.ones(1, 4, dtype=torch.long)
    with torch.no_grad():
        assert torch.equal(grown.model(ids, mask)[..., : len(old.labels)], old.model(ids, mask))
    # saved, the head is one linear layer again, with old + new labels, the old rows as they were
    saved = load_tagger(save_tagger(grown, tmp_path / "grown"), device="cpu")
    assert saved.labels == labels and json.loads((tmp_path / "grown" / "config.json").read_text())["id2label"]["6"] == "I-DRUG"
    assert torch.equal(saved.model.hf.classifier.weight[: len(old.labels)], old.model.hf.classifier.weight)


def test_init_from_learns_the_new_label_and_keeps_the_old_ones(tiny_tagger: Path, tmp_path: Path) -> None:
    """The data annotates DRUG only: the run learns DRUG (dev F1 0 before -> 100 after, on the
    data's types), and the tiny tagger still finds the PER/LOC it knew, where the data says O."""
    events: list[TrainEvent] = []
    out = tmp_path / "cont"
    config = TrainConfig(init_from=str(tiny_tagger), base="ignored-base", **TINY)
    result = train(config, DRUGS, DRUGS, out, callback=events.append)
    assert result.before is not None and result.before["f1"] == 0.0 and result.dev["f1"] == 100.0
    meta = json.loads((out / "tagger.json").read_text())
    assert meta["labels"] == ["O", "B-LOC", "I-LOC", "B-PER", "I-PER", "B-DRUG", "I-DRUG"]
    assert meta["before"]["f1"] == 0.0 and meta["dev"]["f1"] == 100.0 and meta["continued"]["added"] == ["B-DRUG", "I-DRUG"]
    assert meta["continued"]["scored_types"] == ["DRUG"] and meta["continued"]["old_tags_kept"] >= 2  # Angela Merkel, John
    # the continued model's own base and head, not the settings given
    assert meta["config"]["init_from"] == str(tiny_tagger) and meta["config"]["base"] == load_tagger(tiny_tagger, device="cpu").config.base
    assert {"wall_seconds", "loop_seconds"} <= set(meta) and not {"train_seconds", "train_loop_seconds"} & set(meta)
    kinds = [e.kind for e in events if e.kind != "step"]
    assert kinds[:2] == ["start", "before"] and kinds[-1] == "done"
    before_event = next(e for e in events if e.kind == "before")
    assert before_event.dev == result.before and events[-1].before == result.before and events[-1].dev == result.dev
    found = _entities(out, "Angela Merkel took aspirin today.")
    assert ("aspirin", "DRUG") in found and ("Angela Merkel", "PER") in found
    assert ("Paris", "LOC") in _entities(out, "Angela Merkel visited Paris today.")


def test_init_from_without_keeping_old_types_forgets_them(tiny_tagger: Path, tmp_path: Path) -> None:
    """The ablation: trained on the data's O as it is, the tiny tagger unlearns PER on those words."""
    config = TrainConfig(init_from=str(tiny_tagger), keep_old_types=False, **TINY)
    train(config, DRUGS, DRUGS, tmp_path / "cont")
    assert ("Angela Merkel", "PER") not in _entities(tmp_path / "cont", "Angela Merkel took aspirin today.")


def test_init_from_a_casing_tagger_saves_and_reloads_with_its_grown_head(tiny_base: Path, tmp_path: Path) -> None:
    """The casing embedding travels folded into token types (tagger.export): a continued casing
    tagger saved with new labels reloads to the same predictions, its head and decoding kept."""
    casing = train_tiny(tiny_base, tmp_path / "casing", "casing")
    out = tmp_path / "cont"
    result = train(TrainConfig(init_from=str(casing), head="linear", decode="argmax", max_length=32, **TINY), DRUGS, DRUGS, out)
    reloaded = load_tagger(out, device="cpu")
    assert result.dev["f1"] == 100.0 and evaluate_tagger(reloaded, DRUGS, types={"DRUG"}) == result.dev
    assert reloaded.model.head == "casing" and reloaded.config.decoding == "viterbi" and reloaded.config.max_length == 64
    assert reloaded.labels[-2:] == ["B-DRUG", "I-DRUG"] and json.loads((out / "tagger.json").read_text())["casing_in"] == "token_type_ids"
    assert ("aspirin", "DRUG") in _entities(out, "Angela Merkel took aspirin today.")


@pytest.mark.unit
def test_init_from_preflight_uses_the_models_settings_and_says_so(tiny_tagger: Path, tmp_path: Path) -> None:
    train_file = _conll(tmp_path / "drugs.conll", DRUGS * 5)
    checked = preflight(TrainConfig(init_from=str(tiny_tagger), head="casing", base="bert-base-cased"), train_file)
    assert checked.labels == ["O", "B-LOC", "I-LOC", "B-PER", "I-PER", "B-DRUG", "I-DRUG"] and checked.new_labels == ["B-DRUG", "I-DRUG"]
    assert checked.config.head == "linear" and checked.config.base != "bert-base-cased" and checked.config.dev_fraction == 0.2
    assert len(checked.data.dev) == 2 and len(checked.data.train) == 8  # 20% held out
    assert "continuing" in checked.summary and "+ B-DRUG, I-DRUG" in checked.summary and "base/head/max_length settings are ignored" in checked.summary


@pytest.mark.unit
def test_init_from_bad_inputs_fail_early_with_nothing_written(tiny_base: Path, tiny_tagger: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    train_file = _conll(tmp_path / "drugs.conll", DRUGS * 5)
    missing = str(tmp_path / "no-such-model")
    pos = _fake_tagger(tmp_path / "pos", ["ADJ", "NOUN", "VERB"])
    cases = [
        (missing, DRUGS, ModelError, f"init_from {missing}: no such model folder"),
        (str(tiny_base), DRUGS, ModelError, "not a tagger checkpoint"),
        (str(pos), DRUGS, ModelError, r"tags plain labels \(ADJ, NOUN, VERB\), the training data entity spans \(DRUG\)"),
        (str(tiny_tagger), [], TrainingError, "the training data is empty"),
    ]
    for init_from, data, error, message in cases:
        with pytest.raises(error, match=message):
            train(TrainConfig(init_from=init_from, **TINY), data, DRUGS, out)
        if data:  # the same checks before any model loads
            with pytest.raises(error, match=message):
                preflight(TrainConfig(init_from=init_from), train_file)
    empty = tmp_path / "empty.conll"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(DataError, match="the file is empty"):
        preflight(TrainConfig(init_from=str(tiny_tagger)), empty)
    with pytest.raises(ConfigError, match="dev_fraction"):
        TrainConfig(init_from=str(tiny_tagger), dev_fraction=0.6)
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["drugs.conll", "empty.conll", "pos"]


@needs_default
@needs_shared("prodigy-drugs/drugs_training.jsonl", "conll2003/eng.testb")
@pytest.mark.slow
def test_init_from_default_on_drugs_learns_drug_and_keeps_conll(tmp_path: Path) -> None:
    """A small acceptance check (bench/bench_init_from.py runs the full one): the shipped default
    continued on 200 prodigy-drugs records for two epochs finds DRUG, keeps PER/LOC/ORG/MISC in its
    label map, and loses at most 1.5 F1 on the first 300 CoNLL-2003 test sentences."""
    from tagger.data import read_files, split_holdout

    drugs = [s for s in read_files([SHARED_DATA / "prodigy-drugs" / "drugs_training.jsonl"]).sentences if s.doc < 200]
    conll = read_files([SHARED_DATA / "conll2003" / "eng.testb"]).sentences[:300]
    config = TrainConfig(init_from=str(DEFAULT_MODEL), epochs=2)
    train_part, dev_part = split_holdout(drugs, config.dev_fraction, config.seed)  # as the preflight holds out (20%)
    result = train(config, train_part, dev_part, tmp_path / "drugs")
    new = load_tagger(tmp_path / "drugs", device="cpu")
    assert new.labels[:9] == load_tagger(DEFAULT_MODEL, device="cpu").labels and new.labels[9:] == ["B-DRUG", "I-DRUG"]
    assert result.before is not None and result.before["f1"] == 0.0 and result.dev["f1"] > 30.0
    before = evaluate_tagger(load_tagger(DEFAULT_MODEL, device="cpu"), conll)["f1"]
    after = evaluate_tagger(new, conll)
    assert after["f1"] >= before - 1.5 and {"PER", "LOC", "ORG", "MISC"} <= set(after["per_type"])


def test_init_from_cli_continues_a_model_and_says_what_it_ignores(tiny_tagger: Path, tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture) -> None:
    from tagger.cli import main

    train_file = _conll(tmp_path / "drugs.conll", DRUGS * 5)
    missing = tmp_path / "no-such-model"
    assert main(["train", "--init-from", str(missing), "--train", str(train_file), "--out", str(tmp_path / "bad")]) == 2
    assert capsys.readouterr().err == f"error: init_from {missing}: no such model folder\n" and not (tmp_path / "bad").exists()
    out = tmp_path / "cont"
    argv = ["train", "--init-from", str(tiny_tagger), "--base", "bert-base-cased", "--train", str(train_file), "--out", str(out),
            "--epochs", "2", "--lr", "5e-3", "--head-lr", "5e-3", "--batch-size", "2", "--case-augment", "0", "0", "0"]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "continuing" in err and "+ B-DRUG, I-DRUG" in err and "the base/head/max_length settings are ignored" in err
    assert "dev F1 before this run 0.00" in err
    meta = json.loads((out / "tagger.json").read_text())
    assert meta["labels"][-2:] == ["B-DRUG", "I-DRUG"] and meta["before"]["f1"] == 0.0 and meta["config"]["lr"] == 5e-3
    assert meta["dev_sentences"] == 2 and meta["train_sentences"] == 8  # 20% held out
