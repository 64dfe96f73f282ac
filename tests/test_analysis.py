"""Error analysis (tagger.analysis, tagger.evaluation): every error class on hand-made sentences,
adjacent and nested spans, all-O sentences, plain-label tasks, the two counting invariants (random
tag sequences, and the full CoNLL-2003 test set with the shipped model), and the CLI outputs."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from support import DEFAULT_MODEL, SHARED_DATA, needs_default, needs_shared, two_sentences

from tagger.analysis import (
    ERROR_KINDS,
    MISSED,
    SPURIOUS,
    WRONG_KINDS,
    Analysis,
    analyse,
    classify,
    compare,
    confusion_matrix,
    count_errors,
    filter_sentences,
    format_comparison,
    match_entities,
    sort_sentences,
    tag_confusion,
)
from tagger.data import Sentence, read_file
from tagger.evaluation import errors_jsonl, evaluate_predictions, predictions_conll, predictions_jsonl
from tagger.metrics import score
from tagger.schemes import Span


def kinds(gold: list[str], pred: list[str]) -> list[tuple[str, str]]:
    return [(m.kind, m.type) for m in classify(gold, pred)]


def check_invariants(a: Analysis) -> None:
    e = a.errors
    paired = e["correct"] + sum(e[k] for k in WRONG_KINDS)
    assert paired + e["missed"] == a.n_gold
    assert paired + e["spurious"] == a.n_pred
    for k in ERROR_KINDS:  # per-type counts add up to the totals
        assert sum(t[k] for t in e["per_type"].values()) == e[k]


@pytest.mark.unit
def test_analysis_every_error_class() -> None:
    assert kinds(["B-PER", "I-PER", "O"], ["B-PER", "I-PER", "O"]) == [("correct", "PER")]
    assert kinds(["B-PER", "I-PER", "O"], ["B-ORG", "I-ORG", "O"]) == [("wrong_type", "PER")]
    assert kinds(["B-PER", "I-PER", "O"], ["B-PER", "I-PER", "I-PER"]) == [("wrong_boundary", "PER")]
    assert kinds(["O", "B-PER", "I-PER"], ["B-ORG", "I-ORG", "O"]) == [("wrong_type_and_boundary", "PER")]
    assert kinds(["B-LOC", "O"], ["O", "O"]) == [("missed", "LOC")]
    assert kinds(["O", "O"], ["O", "B-MISC"]) == [("spurious", "MISC")]
    # one sentence with all six, in text order
    gold = ["B-PER", "O", "B-LOC", "O", "B-ORG", "I-ORG", "O", "B-PER", "O", "B-MISC", "O", "O"]
    pred = ["B-PER", "O", "B-ORG", "O", "B-ORG", "O", "O", "B-LOC", "I-LOC", "O", "O", "B-LOC"]
    assert [m.kind for m in classify(gold, pred)] == [
        "correct", "wrong_type", "wrong_boundary", "wrong_type_and_boundary", "missed", "spurious",
    ]
    a = analyse([gold], [pred])
    assert {k: a.errors[k] for k in ERROR_KINDS} == dict.fromkeys(ERROR_KINDS, 1)
    assert a.errors["per_type"]["PER"] == {**dict.fromkeys(ERROR_KINDS, 0), "correct": 1, "wrong_type_and_boundary": 1}
    assert a.errors["per_type"]["LOC"]["spurious"] == 1 and a.errors["per_type"]["LOC"]["wrong_type"] == 1
    check_invariants(a)


@pytest.mark.unit
def test_analysis_adjacent_entities_pair_one_to_one() -> None:
    # two adjacent gold PER read as one predicted PER: one pairs (boundary), the other is missed
    assert kinds(["B-PER", "B-PER", "O"], ["B-PER", "I-PER", "O"]) == [("wrong_boundary", "PER"), ("missed", "PER")]
    # and the other way round: one gold entity split in two predictions
    assert kinds(["B-PER", "I-PER", "O"], ["B-PER", "B-PER", "O"]) == [("wrong_boundary", "PER"), ("spurious", "PER")]
    # adjacent entities of different types, both right
    assert kinds(["B-PER", "B-LOC"], ["B-PER", "B-LOC"]) == [("correct", "PER"), ("correct", "LOC")]
    # the larger overlap wins; a same-type pair wins a tie
    assert kinds(["B-ORG", "I-ORG", "I-ORG", "O"], ["B-PER", "I-PER", "B-ORG", "O"]) == [
        ("wrong_type_and_boundary", "ORG"), ("spurious", "ORG"),
    ]
    assert kinds(["B-ORG", "I-ORG", "O"], ["B-PER", "B-ORG", "O"]) == [("wrong_boundary", "ORG"), ("spurious", "PER")]
    for gold, pred in [(["B-PER", "B-PER", "B-PER"], ["B-PER", "I-PER", "I-PER"]), (["B-LOC", "I-LOC", "B-ORG"], ["B-LOC", "B-ORG", "I-ORG"])]:
        check_invariants(analyse([gold], [pred]))


@pytest.mark.unit
def test_analysis_nested_spans() -> None:
    # a prediction inside a gold entity ("Bank of [America]") and a gold entity inside a prediction
    assert kinds(["B-ORG", "I-ORG", "I-ORG"], ["O", "O", "B-LOC"]) == [("wrong_type_and_boundary", "ORG")]
    assert kinds(["O", "B-LOC", "O"], ["B-ORG", "I-ORG", "I-ORG"]) == [("wrong_type_and_boundary", "LOC")]
    # nested annotations given as spans: exact pairs first, each entity used once
    gold = [Span("ORG", 0, 3), Span("LOC", 2, 3)]
    assert [(m.kind, m.type) for m in match_entities(gold, [Span("LOC", 2, 3)])] == [("missed", "ORG"), ("correct", "LOC")]
    assert [m.kind for m in match_entities(gold, gold)] == ["correct", "correct"]
    both = match_entities(gold, [Span("ORG", 0, 2)])
    assert sorted(m.kind for m in both) == ["missed", "wrong_boundary"]


@pytest.mark.unit
def test_analysis_all_o_sentences() -> None:
    a = analyse([["O", "O"], ["O"], []], [["O", "O"], ["O"], []])
    assert a.sentences == [] and a.n_gold == a.n_pred == 0 and a.errors["per_type"] == {}
    assert a.confusion == {} and all(a.errors[k] == 0 for k in ERROR_KINDS)
    a = analyse([["O", "O"], ["O"]], [["O", "B-PER"], ["O"]])
    assert [(s.index, [m.kind for m in s.errors]) for s in a.sentences] == [(0, ["spurious"])]
    assert a.confusion == {SPURIOUS: {"PER": 1}}
    check_invariants(a)


@pytest.mark.unit
def test_analysis_plain_labels() -> None:
    gold = [["DT", "NN", "VBZ"], ["NNP", "O"]]
    pred = [["DT", "VB", "VBZ"], ["NNP", "NN"]]
    a = analyse(gold, pred)
    assert a.task == "plain"
    assert a.errors["correct"] == 3 and a.errors["wrong_type"] == 1 and a.errors["spurious"] == 1
    assert a.confusion == tag_confusion(gold, pred) == {"DT": {"DT": 1}, "NN": {"VB": 1}, "NNP": {"NNP": 1}, "O": {"NN": 1}, "VBZ": {"VBZ": 1}}
    check_invariants(a)
    s = score(gold, pred)
    assert s["accuracy"] == pytest.approx(60.0) and s["per_type"]["NN"]["recall"] == 0.0
    assert analyse([["B-NP", "I-NP"]], [["B-NP", "B-NP"]]).task == "entities"


@pytest.mark.unit
def test_analysis_confusion_matrix_has_missed_and_spurious() -> None:
    gold = [["B-PER", "O", "B-LOC", "O", "B-ORG", "O"]]
    pred = [["B-PER", "O", "B-ORG", "O", "O", "B-LOC"]]
    matches = [m for g, p in zip(gold, pred) for m in classify(g, p)]
    assert confusion_matrix(matches) == {"PER": {"PER": 1}, "LOC": {"ORG": 1}, "ORG": {MISSED: 1}, SPURIOUS: {"LOC": 1}}
    assert analyse(gold, pred).confusion == confusion_matrix(matches)
    assert count_errors(matches)["missed"] == 1


@pytest.mark.unit
def test_analysis_invariants_random_sequences() -> None:
    rng = random.Random(14)
    tags = ["O", "O", "O", "B-PER", "I-PER", "B-LOC", "I-LOC", "I-ORG"]
    gold = [[rng.choice(tags) for _ in range(rng.randint(0, 25))] for _ in range(400)]
    pred = [[t if rng.random() < 0.6 else rng.choice(tags) for t in g] for g in gold]
    a = analyse(gold, pred)
    check_invariants(a)
    s = score(gold, pred)
    assert a.n_gold == sum(v["support"] for v in s["per_type"].values())
    assert a.errors["correct"] == round(s["recall"] * a.n_gold / 100)  # correct = seqeval's true positives
    assert sum(n for row in a.confusion.values() for n in row.values()) == sum(a.errors[k] for k in ERROR_KINDS)


@pytest.mark.unit
def test_analysis_filter_and_sort() -> None:
    gold = [["B-PER", "O"], ["B-LOC", "B-PER", "O"], ["O", "O"], ["B-ORG", "O"]]
    pred = [["B-ORG", "O"], ["O", "O", "B-LOC"], ["O", "O"], ["B-ORG", "O"]]
    conf = [[0.5, 1.0], [0.9, 0.8, 0.95], [1.0, 1.0], [0.1, 1.0]]
    a = analyse(gold, pred, conf)
    assert [s.index for s in a.sentences] == [0, 1]
    assert [s.index for s in filter_sentences(a.sentences, types=["PER"])] == [0, 1]
    assert [s.index for s in filter_sentences(a.sentences, kinds=["missed"])] == [1]
    assert [s.index for s in filter_sentences(a.sentences, types=["ORG"], kinds=["missed"])] == []
    assert [s.index for s in filter_sentences(a.sentences, types=["ORG"], kinds=["wrong_type"])] == [0]
    assert [s.index for s in sort_sentences(a.sentences, "errors")] == [1, 0]
    assert [s.index for s in sort_sentences(a.sentences, "confidence")] == [0, 1]  # 0.5 < 0.8
    with pytest.raises(ValueError, match="sort by"):
        sort_sentences(a.sentences, "nope")


@pytest.mark.unit
def test_analysis_compare_two_models() -> None:
    gold = [["B-PER", "O"], ["B-LOC", "O"], ["O", "B-ORG"]]
    a = [["B-PER", "O"], ["O", "O"], ["O", "B-ORG"]]
    b = [["B-PER", "O"], ["B-LOC", "O"], ["O", "B-LOC"]]
    c = compare(gold, a, b, [["Ann", "x"], ["Rome", "y"], ["z", "IBM"]])
    assert c["per_type"]["LOC"] == {"a": 0.0, "b": pytest.approx(66.667, abs=0.01), "delta": pytest.approx(66.667, abs=0.01), "support": 1}
    assert c["per_type"]["ORG"]["a"] == 100.0 and c["per_type"]["ORG"]["b"] == 0.0
    assert [(d.index, d.better) for d in c["disagreements"]] == [(1, "b"), (2, "a")]
    assert c["disagreements"][1].to_dict()["errors_b"][0]["kind"] == "wrong_type"
    text = format_comparison(c, "m1", "m2")
    assert "2 sentences tagged differently: m1 has fewer errors in 1, m2 in 1" in text


@pytest.mark.unit
def test_analysis_output_files_round_trip(tmp_path: Path) -> None:
    sents = [Sentence(["New York", "is", "big"], ["B-LOC", "O", "O"], line=1), Sentence(["Ann", "ran"], ["B-PER", "O"], line=5)]
    ev = evaluate_predictions(sents, [["B-ORG", "O", "O"], ["B-PER", "O"]], [[0.4, 1.0, 1.0], [0.99, 1.0]])
    conll = tmp_path / "p.conll"
    conll.write_text(predictions_conll(ev))
    assert conll.read_text().splitlines()[0] == "New_York B-LOC B-ORG"
    assert [s.tags for s in read_file(conll, 1).sentences] == ev.gold  # conlleval's columns: word, gold, predicted
    assert [s.tags for s in read_file(conll, 2).sentences] == ev.pred
    rows = [json.loads(ln) for ln in errors_jsonl(ev.error_sentences).splitlines()]
    assert len(rows) == 1 and rows[0]["index"] == 0 and rows[0]["line"] == 1 and rows[0]["words"][0] == "New York"
    assert rows[0]["errors"] == [{"kind": "wrong_type", "gold": {"type": "LOC", "start": 0, "end": 1, "text": "New York"},
                                  "pred": {"type": "ORG", "start": 0, "end": 1, "text": "New York"}}]
    assert rows[0]["confidences"] == [0.4, 1.0, 1.0]
    preds = [json.loads(ln) for ln in predictions_jsonl(ev).splitlines()]
    assert [p["pred"] for p in preds] == ev.pred and preds[1]["tokens"] == ["Ann", "ran"]
    assert set(ev.to_json()) == {"precision", "recall", "f1", "accuracy", "per_type", "errors", "confusion"}


@pytest.fixture(scope="module")
def conll_test_eval():  # type: ignore[no-untyped-def]
    """The shipped model on the whole CoNLL-2003 test set, tagged once for the module."""
    from tagger.evaluation import evaluate
    from tagger.predict import Predictor

    sents = read_file(SHARED_DATA / "conll2003" / "eng.testb").sentences
    return evaluate(Predictor.from_dir(DEFAULT_MODEL), sents)


@pytest.mark.slow
@needs_shared("conll2003/eng.testb")
@needs_default
def test_analysis_invariants_conll2003_test(conll_test_eval) -> None:  # type: ignore[no-untyped-def]
    ev = conll_test_eval
    a = ev.analysis
    assert len(ev.gold) == 3453 and a.task == "entities"
    check_invariants(a)
    n_gold = sum(v["support"] for v in ev.scores["per_type"].values())
    assert a.n_gold == n_gold == 5648
    e = a.errors
    assert e["correct"] == round(ev.scores["recall"] * n_gold / 100)  # seqeval's true positives
    assert a.n_pred == round(e["correct"] * 100 / ev.scores["precision"])  # seqeval's predicted entities
    for t, v in ev.scores["per_type"].items():
        assert v["support"] == sum(e["per_type"][t][k] for k in ERROR_KINDS if k != "spurious")
    assert all(e[k] > 0 for k in ERROR_KINDS)  # a real model makes every kind of error
    differ = {i for i, (g, p) in enumerate(zip(ev.gold, ev.pred)) if g != p}
    assert {s.index for s in a.sentences} <= differ and len(a.sentences) > 0.9 * len(differ)


ERROR_TEXT = (
    "Angela B-PER\nMerkel I-PER\nvisited O\nParis B-ORG\ntoday O\n. O\n\n"  # Paris as ORG: the model says LOC
    "John B-PER\nlives O\nin O\nBerlin B-LOC\nnow O\n\n"
    "Berlin O\nis O\nbig O\n"  # an entity the gold lacks
)


@pytest.fixture(scope="module")
def error_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("analysis-data") / "errors.conll"
    path.write_text(ERROR_TEXT)
    return path


def test_analysis_cli_errors_predictions_json(tiny_tagger: Path, error_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tagger.cli import main

    errors, conll = tmp_path / "out" / "errors.jsonl", tmp_path / "pred.conll"
    capsys.readouterr()
    argv = ["evaluate", "--data", str(error_file), "--model", str(tiny_tagger)]
    assert main([*argv, "--json", "--errors", str(errors), "--predictions", str(conll)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out["errors"]) == {*ERROR_KINDS, "per_type"} and set(out["errors"]["per_type"]["ORG"]) == set(ERROR_KINDS)
    assert out["errors"]["per_type"]["ORG"]["wrong_type"] == 1 and out["confusion"]["ORG"] == {"LOC": 1}
    assert out["errors"]["spurious"] == sum(out["confusion"][SPURIOUS].values()) >= 1
    rows = [json.loads(ln) for ln in errors.read_text().splitlines()]
    assert [r["index"] for r in rows] == [0, 2]
    assert {"words", "gold", "pred", "confidences", "errors"} <= set(rows[0]) and rows[0]["errors"][0]["kind"] == "wrong_type"
    assert all(0 < c <= 1 for c in rows[0]["confidences"])
    assert [ln.split() for ln in conll.read_text().splitlines()[:4]] == [
        ["Angela", "B-PER", "B-PER"], ["Merkel", "I-PER", "I-PER"], ["visited", "O", "O"], ["Paris", "B-ORG", "B-LOC"],
    ]
    assert main([*argv, "--errors", str(errors)]) == 0  # text mode: scores, then the error-type table
    text = capsys.readouterr()
    assert text.out.splitlines()[-1].split()[0] == "total" and "2 of 3 sentences have errors" in text.err


@needs_default
def test_analysis_cli_compare(tiny_tagger: Path, error_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tagger.cli import main

    capsys.readouterr()
    argv = ["evaluate", "--data", str(error_file), "--model", str(tiny_tagger), "--compare", str(DEFAULT_MODEL)]
    assert main([*argv, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["a"]["model"] == str(tiny_tagger) and out["b"]["model"] == str(DEFAULT_MODEL)
    assert set(out["per_type"]["PER"]) == {"a", "b", "delta", "support"}
    for d in out["disagreements"]:
        assert d["a"] != d["b"] and d["better"] in ("a", "b", "same")
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert text.splitlines()[0].split()[:3] == ["type", "model", "default"] and " tagged differently: " in text


def test_analysis_run_records_dev_data(tiny_tagger: Path, tmp_path: Path) -> None:
    """train() saves the dev sentences with the model; re-saving the model in place keeps them."""
    import shutil

    from tagger.meta import DEV_DATA_FILE, dev_data_path
    from tagger.model import load_tagger, save_tagger

    meta = json.loads((tiny_tagger / "tagger.json").read_text())
    assert meta["dev_data"] == DEV_DATA_FILE and dev_data_path(tiny_tagger) == tiny_tagger / DEV_DATA_FILE
    dev = read_file(tiny_tagger / DEV_DATA_FILE).sentences
    assert [(s.words, s.tags) for s in dev] == [(s.words, s.tags) for s in two_sentences()]
    copy = tmp_path / "model"
    shutil.copytree(tiny_tagger, copy)
    save_tagger(load_tagger(copy), copy, fp16=True)  # as `train --fp16` does
    assert dev_data_path(copy) is not None and (copy / DEV_DATA_FILE).read_text() == (tiny_tagger / DEV_DATA_FILE).read_text()
    assert dev_data_path(tmp_path) is None
