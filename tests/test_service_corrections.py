"""demo.service.corrections (the corrections datasets) and demo.service.correct_session (a pass over
texts in the Correct tab), without Gradio: checks, snapping, privacy, atomic saves, exports that the
project's readers read back, and the session's edits, decisions and undo."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from support import REPO

from demo.service import atomic
from demo.service import correction_spans as cspans
from demo.service.correct_session import CorrectSession, Item, read_file_texts, read_pasted, start_session
from demo.service.correction_spans import CorrectionError
from demo.service.corrections import CorrectionStore
from demo.service.runs import RunStore
from tagger.data import read_file
from tagger.schemes import iob2_spans

pytestmark = pytest.mark.unit
ME, OTHER = "t-" + "a" * 32, "t-" + "b" * 32
TEXT = "Angela Merkel visited Paris today."


@pytest.fixture
def store(tmp_path: Path) -> CorrectionStore:
    return CorrectionStore(tmp_path / "models")


def test_service_corrections_names_and_labels_are_checked() -> None:
    for bad in ["", "   ", "a" * 65, "../runs", "a/b", "a\\b", ".hidden", "c:d", "new\nline"]:
        with pytest.raises(CorrectionError, match="dataset name"):
            cspans.check_dataset_name(bad)
    assert cspans.check_dataset_name(" fixes v2 ") == "fixes v2"
    for bad, why in [(" ", "empty"), ("TWO WORDS", "whitespace"), ("B-PER", "IOB tag"), ("u_loc", "IOB tag"), ("-X", "dash"),
                     ("O", "outside"), ("X\x07", "control"), ("X" * 41, "at most")]:
        with pytest.raises(CorrectionError, match=why):
            cspans.check_label(bad)
    assert cspans.check_label("GPE-city") == "GPE-city"


@pytest.mark.parametrize(("text", "start", "end", "expected"), [
    ("I like M&M. Yes", 7, 11, "M&M"),            # trailing punctuation glued to the word is left out
    ("I like M&M. Yes", 8, 9, "M&M"),             # a cut word widens to the word (as the readers snap)
    ("We met in the U.S. today", 14, 17, "U.S."),  # initials keep their period
    ("Apple Inc. said", 0, 10, "Apple Inc."),     # so do spaCy's abbreviations
    ('He said "Paris"!', 8, 16, "Paris"),        # punctuation-only words at the edges are left out
    ("  Berlin  ", 0, 10, "Berlin"),              # edge whitespace trimmed
])
def test_service_corrections_snap_to_words_without_trailing_punctuation(text: str, start: int, end: int, expected: str) -> None:
    s, e = cspans.snap(text, start, end)
    assert text[s:e] == expected


@pytest.mark.parametrize(("entities", "message"), [
    ([[0, 99, "PER"]], "entity 1: span \\[0, 99\\): outside the text"),
    ([[5, 5, "PER"]], "entity 1: span \\[5, 5\\): empty"),
    ([[6, 2, "PER"]], "reversed"),
    ([[-1, 3, "PER"]], "negative"),
    ([["0", 3, "PER"]], "integers"),
    ([[0, 6, "PER"], [7, 13, "LOC"], [0, 13, "PER"]], "entity 3 'Angela Merkel' \\(PER\\) overlaps entity 1"),
    ([[0, 13, "B-PER"]], "entity 1: label 'B-PER'"),
    ([{"start": 0, "end": 6}], "entity 1: label ''"),
    ("not json", "entities: not JSON"),
    ([[0, 13]], "entity 1: expected"),
    ([[27, 28, "X"]], "holds no word"),
])
def test_service_corrections_bad_spans_are_refused_and_nothing_is_saved(store: CorrectionStore, entities: object, message: str) -> None:
    store.save(ME, "fixes", "John lives in Berlin.", [[0, 4, "PER"]])
    before = store.path(ME, "fixes").read_bytes()
    with pytest.raises(CorrectionError, match=message):
        store.save(ME, "fixes", TEXT, entities)
    assert store.path(ME, "fixes").read_bytes() == before
    with pytest.raises(CorrectionError, match="answer 'maybe'"):
        store.save(ME, "fixes", TEXT, [], "maybe")
    with pytest.raises(CorrectionError, match="text: empty"):
        store.save(ME, "fixes", "  ", [])
    with pytest.raises(CorrectionError, match="corrections belong to an owner"):
        store.save(None, "fixes", TEXT, [])
    assert store.path(ME, "fixes").read_bytes() == before


def test_service_corrections_are_private_durable_and_laid_out(store: CorrectionStore, tmp_path: Path) -> None:
    summary, record, previous = store.save(ME, "fixes", TEXT, [{"start": 0, "end": 13, "label": "PER"}, [22, 27, "LOC"]])
    store.save(ME, "fixes", "Nothing here.", [], "reject")
    store.save(ME, "other set", "John lives in Berlin.", [[0, 4, "PER"]])
    assert previous is None and record["spans"][1] == {"start": 22, "end": 27, "label": "LOC"}
    assert summary.to_json() == {"dataset": "fixes", "texts": 1, "accepted": 1, "rejected": 0, "labels": {"LOC": 1, "PER": 1}}
    # the layout: <models dir>/.corrections/<hash of the owner>/<dataset>.jsonl, which the run store leaves alone
    path = store.path(ME, "fixes")
    assert path.parent.parent == tmp_path / "models" / ".corrections" and ME not in str(path)
    runs = RunStore(tmp_path / "models")
    runs.close()
    # another owner sees nothing of it; a restart (a new store on the same folder) sees all of it
    assert store.names(OTHER) == [] and store.summary(OTHER, "fixes").texts == 0 and store.names(None) == []
    with pytest.raises(CorrectionError, match="No corrections dataset 'fixes' among yours"):
        store.records(OTHER, "fixes")
    with pytest.raises(CorrectionError, match="No corrections dataset"):
        store.export(OTHER, "fixes", "jsonl", tmp_path)
    again = CorrectionStore(tmp_path / "models")
    assert again.names(ME) == ["fixes", "other set"]
    assert again.summary(ME, "fixes").line() == "fixes: 2 texts (1 accepted, 1 rejected); entities: LOC 1, PER 1"


def test_service_corrections_a_text_is_stored_once_and_undo_restores(store: CorrectionStore) -> None:
    _, first, _ = store.save(ME, "fixes", TEXT, [[0, 13, "PER"]])
    _, second, previous = store.save(ME, "fixes", TEXT, [[22, 27, "LOC"]])
    assert previous == first and store.summary(ME, "fixes").texts == 1
    assert store.restore(ME, "fixes", second["id"], previous).labels == {"PER": 1}
    assert store.restore(ME, "fixes", first["id"], None).texts == 0


def test_service_corrections_a_save_cut_short_keeps_every_earlier_correction(store: CorrectionStore,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    for i in range(5):
        store.save(ME, "fixes", f"Text number {i} about Paris.", [[len(f"Text number {i} about "), len(f"Text number {i} about Paris"), "LOC"]])
    before = store.path(ME, "fixes").read_bytes()

    def half_then_die(f, data: bytes) -> None:
        f.write(data[: len(data) // 2])
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(atomic, "_write_all", half_then_die)
    with pytest.raises(OSError, match="simulated"):
        store.save(ME, "fixes", TEXT, [[0, 13, "PER"]])
    assert store.path(ME, "fixes").read_bytes() == before
    assert [p.name for p in store.path(ME, "fixes").parent.iterdir()] == ["fixes.jsonl"]  # no temporary left behind
    assert store.summary(ME, "fixes").texts == 5 and store.summary(ME, "fixes").skipped_lines == 0


KILLED = """
import sys
sys.path[:0] = [{repo!r}]
from demo.service.corrections import CorrectionStore
store = CorrectionStore({root!r})
for i in range(100000):
    text = "Record %d about Paris and a long tail of words " % i + "x" * 2000
    store.save("t-me", "fixes", text, [[text.index("Paris"), text.index("Paris") + 5, "LOC"]])
    print(i + 1, flush=True)
"""


def test_service_corrections_a_killed_save_leaves_a_whole_file(tmp_path: Path) -> None:
    """A process saving in a loop, SIGKILLed at some point: the file reads whole, with every save
    that had returned (and at most the one in flight)."""
    proc = subprocess.Popen([sys.executable, "-c", KILLED.format(repo=str(REPO), root=str(tmp_path))], stdout=subprocess.PIPE,
                            text=True)
    assert proc.stdout is not None
    done = 0
    deadline = time.monotonic() + 120
    while done < 40 and time.monotonic() < deadline:
        done = int(proc.stdout.readline() or 0)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done = max([done, *(int(n) for n in proc.stdout.read().split())])  # every save that returned was printed
    store = CorrectionStore(tmp_path)
    summary = store.summary("t-me", "fixes")
    assert done >= 40 and summary.skipped_lines == 0 and done <= summary.texts <= done + 1  # + the one in flight, if its rename was done
    lines = store.path("t-me", "fixes").read_text(encoding="utf-8").splitlines()
    assert all(json.loads(line)["text"].startswith("Record") for line in lines)


def _entities_of_sentences(sentences: list) -> list[tuple[str, str]]:
    out = []
    for s in sentences:
        out += [("".join(s.words[sp.start:sp.end]), sp.label) for sp in iob2_spans(s.tags)]
    return out


def test_service_corrections_exports_read_back_to_the_same_spans(store: CorrectionStore, tmp_path: Path) -> None:
    def spans(text: str, *marked: tuple[str, str]) -> list[list]:
        return [[text.index(w), text.index(w) + len(w), label] for w, label in marked]

    first = "Angela Merkel visited Paris. She likes M&M.\n\nThen Apple Inc. called."
    texts = [
        (first, spans(first, ("Angela Merkel", "PER"), ("Paris.", "LOC"), ("M&M.", "BRAND"), ("Apple Inc", "ORG"))),
        ("John lives in Berlin now", spans("John lives in Berlin now", ("John", "PER"), ("Berlin", "LOC"))),
        ("A rejected text about Rome.", spans("A rejected text about Rome.", ("Rome", "LOC"))),
    ]
    for (text, spans), answer in zip(texts, ["accept", "accept", "reject"]):
        store.save(ME, "fixes", text, spans, answer)
    saved = store.records(ME, "fixes")
    assert [t["text"][s["start"]:s["end"]] for t in saved[:1] for s in t["spans"]] == ["Angela Merkel", "Paris", "M&M", "Apple Inc."]
    jsonl = store.export(ME, "fixes", "jsonl", tmp_path)
    conll = store.export(ME, "fixes", "conll", tmp_path)
    assert [json.loads(line)["answer"] for line in jsonl.read_text(encoding="utf-8").splitlines()] == ["accept", "accept", "reject"]
    from_jsonl, from_conll = read_file(jsonl), read_file(conll)
    assert [(s.words, s.tags) for s in from_jsonl.sentences] == [(s.words, s.tags) for s in from_conll.sentences]
    expected = [("".join(r["text"][s["start"]:s["end"]].split()), s["label"]) for r in saved if r["answer"] == "accept"
                for s in r["spans"]]
    assert _entities_of_sentences(from_jsonl.sentences) == expected
    assert _entities_of_sentences(from_conll.sentences) == expected
    assert len({s.doc for s in from_conll.sentences}) == 2  # the rejected text is not in the CoNLL file
    assert from_jsonl.report.conversion["records answered reject (not trained on)"] == 1
    assert from_jsonl.report.format == "prodigy" and not [k for k in from_jsonl.report.conversion if "snapped" in k or "dropped" in k]


def test_service_corrections_nothing_to_train_on_is_refused(store: CorrectionStore, tmp_path: Path) -> None:
    with pytest.raises(CorrectionError, match="'fixes' is empty"):
        store.training_file(ME, "fixes", tmp_path)
    store.save(ME, "fixes", TEXT, [], "reject")
    with pytest.raises(CorrectionError, match="only rejected texts"):
        store.training_file(ME, "fixes", tmp_path)
    with pytest.raises(CorrectionError, match="no accepted text"):
        store.export(ME, "fixes", "conll", tmp_path)
    with pytest.raises(CorrectionError, match="format 'xml'"):
        store.export(ME, "fixes", "xml", tmp_path)
    store.save(ME, "fixes", "John lives in Berlin.", [[0, 4, "PER"]])
    path, summary = store.training_file(ME, "fixes", tmp_path)
    assert path.is_file() and summary.accepted == 1


# ------------------------------------------------------------------------------------------ the session
def fake_predict(texts: list[str]) -> list[SimpleNamespace]:
    """A stand-in model: 'Paris' and 'Berlin' are LOC (score 0.9), every word scores 0.5 in texts with 'unsure'."""
    out = []
    for text in texts:
        ents = [SimpleNamespace(start=text.index(w), end=text.index(w) + len(w), label="LOC", score=0.9)
                for w in ("Paris", "Berlin") if w in text]
        score = 0.5 if "unsure" in text else 0.99
        out.append(SimpleNamespace(text=text, entities=ents, words=[SimpleNamespace(score=score)]))
    return out


def test_service_correct_session_edits_decisions_and_undo(store: CorrectionStore) -> None:
    items = read_pasted("Angela Merkel visited Paris.\n\nJohn lives in Berlin.\n\nNothing here.", "paragraphs")
    session = start_session("tiny", "fixes", items, ["LOC", "PER"], fake_predict, False, set())
    session.suggest(fake_predict)
    assert session.current.spans == [{"start": 22, "end": 27, "label": "LOC", "score": 0.9, "text": "Paris"}]
    session.add(0, 9, "PER")                       # "Angela Me" -> "Angela Merkel"
    session.relabel(22, 27, "CITY")                # a new label joins the label bar
    session.remove(0, 13)
    session.undo(store, ME)                        # the removal comes back
    assert [(s["start"], s["end"], s["label"]) for s in session.current.spans] == [(0, 13, "PER"), (22, 27, "CITY")]
    assert session.labels == ["LOC", "PER", "CITY"]
    session.decide("accept", store, ME)
    session.suggest(fake_predict)
    session.decide("reject", store, ME)
    session.suggest(fake_predict)
    session.decide("skip", store, ME)
    assert session.current is None and session.counts() == {"total": 3, "accept": 1, "reject": 1, "skip": 1, "done": 3, "left": 0}
    assert store.summary(ME, "fixes").line() == "fixes: 2 texts (1 accepted, 1 rejected); entities: CITY 1, PER 1"
    session.undo(store, ME)                        # the skip
    session.undo(store, ME)                        # the reject: out of the dataset again
    assert session.current.text == "John lives in Berlin." and store.summary(ME, "fixes").texts == 1
    session.undo(store, ME)                        # the accept: the first text on screen as it was accepted
    assert store.summary(ME, "fixes").texts == 0 and session.pos == 0 and len(session.current.spans) == 2
    with pytest.raises(CorrectionError, match="label 'B-X'"):
        session.add(14, 21, "B-X")
    with pytest.raises(CorrectionError, match="no entity at"):
        session.remove(1, 2)


def test_service_correct_session_order_and_texts_already_done(store: CorrectionStore) -> None:
    items = [Item("Sure about Paris.", "a"), Item("An unsure text.", "b"), Item("Done already.", "c"), Item("Sure about Paris.", "d")]
    done = {cspans.text_id("Done already.")}
    session = start_session("tiny", "fixes", items, [], fake_predict, True, done)
    assert [session.items[i].text for i in session.order] == ["An unsure text.", "Sure about Paris."]
    assert "2 text(s) already in 'fixes' (or repeated) left out" in session.note
    assert CorrectSession("m", "d").current is None


def test_service_correct_session_reads_files_of_any_format(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("First paragraph.\nStill first.\n\nSecond one.\n", encoding="utf-8")
    (tmp_path / "data.jsonl").write_text('{"text": "One record."}\n{"text": "Two records.", "label": [[0, 3, "X"]]}\n',
                                         encoding="utf-8")
    (tmp_path / "data.conll").write_text("EU B-ORG\nrejects O\n\nPeter B-PER\nBlackburn I-PER\n", encoding="utf-8")
    assert [i.text for i in read_file_texts(tmp_path / "notes.txt", "paragraphs")] == ["First paragraph.\nStill first.", "Second one."]
    assert [i.text for i in read_file_texts(tmp_path / "notes.txt", "lines")] == ["First paragraph.", "Still first.", "Second one."]
    assert [i.text for i in read_file_texts(tmp_path / "data.jsonl", "paragraphs")] == ["One record.", "Two records."]
    conll = read_file_texts(tmp_path / "data.conll", "paragraphs")
    assert [i.text for i in conll] == ["EU rejects", "Peter Blackburn"] and conll[1].source.endswith("sentence 2")
    long = read_pasted("word " * 2000, "paragraphs")
    assert len(long) == 4 and all(len(i.text) <= 3000 for i in long)
