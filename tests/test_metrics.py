"""Scores agree with seqeval (entity level, default mode) on hand-made examples."""

from __future__ import annotations

import json

import pytest
from seqeval.metrics import classification_report, f1_score, precision_score, recall_score

from tagger.metrics import format_scores, score

pytestmark = pytest.mark.unit

CASES = {
    "perfect": ([["B-PER", "I-PER", "O", "B-LOC"]], [["B-PER", "I-PER", "O", "B-LOC"]]),
    "missed-one": ([["B-PER", "I-PER", "O", "B-LOC"]], [["B-PER", "I-PER", "O", "O"]]),
    "wrong-boundary": ([["B-PER", "I-PER", "O"]], [["B-PER", "O", "O"]]),
    "wrong-type": ([["B-ORG", "I-ORG", "O"]], [["B-LOC", "I-LOC", "O"]]),
    "spurious": ([["O", "O", "O"]], [["B-MISC", "O", "B-LOC"]]),
    "ill-formed-pred": ([["B-PER", "I-PER", "O", "B-LOC"]], [["I-PER", "I-PER", "O", "I-LOC"]]),
    "two-sentences": (
        [["B-PER", "O", "B-ORG", "I-ORG"], ["B-LOC", "O", "O", "B-PER", "I-PER", "I-PER"]],
        [["B-PER", "O", "B-ORG", "O"], ["B-LOC", "O", "B-LOC", "B-PER", "I-PER", "I-PER"]],
    ),
    "adjacent-same-type": ([["B-LOC", "B-LOC", "I-LOC"]], [["B-LOC", "I-LOC", "I-LOC"]]),
}


@pytest.mark.parametrize(("gold", "pred"), list(CASES.values()), ids=list(CASES))
def test_metrics_match_seqeval(gold: list, pred: list) -> None:
    s = score(gold, pred)
    assert s["precision"] == pytest.approx(100 * precision_score(gold, pred, zero_division=0))
    assert s["recall"] == pytest.approx(100 * recall_score(gold, pred, zero_division=0))
    assert s["f1"] == pytest.approx(100 * f1_score(gold, pred, zero_division=0))
    report = classification_report(gold, pred, output_dict=True, zero_division=0)
    for typ, v in s["per_type"].items():
        assert v["f1"] == pytest.approx(100 * report[typ]["f1-score"])
        assert v["support"] == report[typ]["support"]
    words = sum(len(g) for g in gold)
    assert s["accuracy"] == pytest.approx(100 * sum(a == b for g, p in zip(gold, pred) for a, b in zip(g, p)) / words)
    json.dumps(s)  # plain floats, JSON-ready
    assert all(type(s[k]) is float for k in ("precision", "recall", "f1", "accuracy"))


def test_metrics_hand_values() -> None:
    gold, pred = CASES["two-sentences"]
    s = score(gold, pred)
    # gold: PER, ORG, LOC, PER (4); pred: PER, ORG(wrong span), LOC, LOC(spurious), PER (5); correct: PER, LOC, PER
    assert s["precision"] == pytest.approx(60.0)
    assert s["recall"] == pytest.approx(75.0)
    assert s["f1"] == pytest.approx(2 * 60 * 75 / 135)
    assert s["per_type"]["PER"] == {"precision": 100.0, "recall": 100.0, "f1": 100.0, "support": 2}
    assert s["per_type"]["ORG"]["f1"] == 0.0
    assert s["per_type"]["LOC"]["precision"] == pytest.approx(50.0)


def test_metrics_no_entities_anywhere() -> None:
    s = score([["O", "O"]], [["O", "O"]])
    assert (s["precision"], s["recall"], s["f1"], s["accuracy"]) == (0.0, 0.0, 0.0, 100.0)
    assert s["per_type"] == {}


def test_metrics_plain_labels_score_per_word() -> None:
    gold = [["NNP", "VBZ", "DT", "NN"], ["PRP", "VBD"]]
    pred = [["NNP", "VBZ", "DT", "VB"], ["PRP", "VBD"]]
    s = score(gold, pred)
    assert s["f1"] == pytest.approx(s["accuracy"]) == pytest.approx(500 / 6)
    assert s["per_type"]["NN"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert s["per_type"]["NNP"]["f1"] == 100.0
    assert "VB" not in s["per_type"]  # rows are gold labels


def test_metrics_shape_mismatch() -> None:
    with pytest.raises(ValueError, match="differ in shape"):
        score([["O", "B-PER"]], [["O"]])
    with pytest.raises(ValueError, match="differ in shape"):
        score([["O"]], [["O"], ["O"]])


def test_metrics_format_scores_table() -> None:
    table = format_scores(score(*CASES["two-sentences"]))
    lines = table.splitlines()
    assert lines[0].split() == ["type", "prec", "rec", "f1", "support"]
    assert lines[-1].split()[:2] == ["micro", "avg"] and lines[-1].split()[-1] == "66.67"
    assert {ln.split()[0] for ln in lines[1:-1]} == {"LOC", "ORG", "PER"}
