"""The simulated user of bench/bench_correct.py: it turns a model's suggestions into the gold
annotation with the Correct tab's own edits, counts each kind of edit, and saves the texts through
the corrections store, whose export reads back to the gold entities. No model: the suggestions are
made-up predictions."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

from bench_correct import OWNER, Text, correct, correct_texts, gold_spans, usable_split

from demo.service.correct_session import Item, start_session
from demo.service.corrections import CorrectionStore
from tagger.data import Sentence, read_file
from tagger.predict import Entity, Prediction

TEXT = "Angela Merkel met Emmanuel Macron in Paris and took aspirin with Acme Corp staff."


def _at(text: str, surface: str, label: str) -> dict[str, object]:
    start = text.index(surface)
    return {"start": start, "end": start + len(surface), "label": label}


def _predict(suggested: dict[str, list[tuple[str, str]]]) -> Callable[[Sequence[str]], list[Prediction]]:
    def predict(texts: Sequence[str]) -> list[Prediction]:
        out = []
        for text in texts:
            ents = tuple(Entity(s, (a := _at(text, s, lab))["start"], a["end"], lab, 0.9) for s, lab in suggested.get(text, []))
            out.append(Prediction(text, (), ents))
        return out

    return predict


GOLD = [_at(TEXT, "Angela Merkel", "PER"), _at(TEXT, "Emmanuel Macron", "PER"), _at(TEXT, "Paris", "LOC"), _at(TEXT, "aspirin", "DRUG"),
        _at(TEXT, "Acme Corp", "ORG")]
SUGGESTED = {TEXT: [("Angela Merkel", "PER"),  # kept
                    ("Macron", "PER"),  # re-spanned (gold: "Emmanuel Macron")
                    ("Paris", "ORG"),  # relabelled
                    ("staff", "ORG")]}  # removed; "aspirin" and "Acme Corp" are added


@pytest.mark.unit
def test_bench_correct_counts_each_kind_of_edit_and_reaches_the_gold() -> None:
    session = start_session("m", "d", [Item(TEXT, "here")], [], None, False, set())
    session.suggest(_predict(SUGGESTED))
    edits = correct(session, GOLD)
    assert dict(edits) == {"kept": 1, "re-spanned": 1, "relabelled": 1, "removed": 1, "added": 2}
    assert session.current is not None
    assert [(s["start"], s["end"], s["label"]) for s in session.current.spans or []] == [(g["start"], g["end"], g["label"]) for g in GOLD]


@pytest.mark.unit
def test_bench_correct_saves_through_the_store_and_the_export_reads_back_to_the_gold(tmp_path: Path) -> None:
    other = "Nothing to see here."
    texts = [Text(TEXT, GOLD, "a", ""), Text(other, [], "b", "")]
    store = CorrectionStore(tmp_path)
    edits = correct_texts(texts, _predict(SUGGESTED | {other: [("Nothing", "MISC")]}), "m", store, "sim", {"PER", "LOC", "ORG", "DRUG"})
    assert edits["gold"] == 5 and edits["removed"] == 2 and edits["foreign"] == 1  # MISC: a type the domain lacks
    (tmp_path / "out").mkdir()
    path, summary = store.training_file(OWNER, "sim", tmp_path / "out")
    assert summary.accepted == 2
    spans = [(s.words[i], t[2:]) for s in read_file(path).sentences for i, t in enumerate(s.tags) if t.startswith("B-")]
    assert spans == [("Angela", "PER"), ("Emmanuel", "PER"), ("Paris", "LOC"), ("aspirin", "DRUG"), ("Acme", "ORG")]


@pytest.mark.unit
def test_bench_correct_counting_only_saves_nothing(tmp_path: Path) -> None:
    store = CorrectionStore(tmp_path)
    correct_texts([Text(TEXT, GOLD, "a", "")], _predict(SUGGESTED), "m", None, "sim", {"PER"})
    assert store.names(OWNER) == []


@pytest.mark.unit
def test_bench_correct_gold_spans_keep_the_longest_of_overlapping_ones() -> None:
    text = "Acme Corp Ltd sued."
    spans, dropped = gold_spans(text, [[0, 4, "ORG"], [0, 13, "ORG"], [14, 18, "X"], [18, 19, "X"]])
    assert [text[s["start"]:s["end"]] for s in spans] == ["Acme Corp Ltd", "sued"] and dropped == 2


@pytest.mark.unit
def test_bench_correct_moves_held_out_sentences_of_a_type_training_lacks() -> None:
    a, b = Sentence(["Paris"], ["B-LOC"]), Sentence(["Polish"], ["B-NATIONALITY"])
    train, dev, moved = usable_split([a], [b, Sentence(["x"], ["O"])])
    assert moved == 1 and b in train and dev == [Sentence(["x"], ["O"])]
