"""The writers (tagger.outputs) on hand-made predictions: each format's shape, Label Studio tasks that
the Label Studio SDK validates, and atomic writes (an error or Ctrl-C leaves neither output nor
temporary file, and an older output file untouched)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tagger.bulk import joined, tag_sentence
from tagger.errors import DataError
from tagger.inputs import Document, Layout
from tagger.outputs import (
    JsonlWriter,
    Tagged,
    conll_lines,
    label_studio_config,
    label_studio_task,
    open_writer,
    output_format,
    record,
)

pytestmark = pytest.mark.unit
TAGS = [[("B-PER", 0.9), ("I-PER", 0.8), ("O", 0.99), ("B-LOC", 0.7)], [("O", 0.95), ("B-ORG", 0.4)]]
TEXT = "Ann Lee met Rome. So did EU."


def raw_item(threshold: float = 0.0, fields: dict | None = None) -> Tagged:
    """TEXT as a raw-text document with TAGS."""
    words = [[("Ann", 0, 3), ("Lee", 4, 7), ("met", 8, 11), ("Rome", 12, 16)], [("So", 18, 20), ("EU", 25, 27)]]
    return _tagged(Document("doc:1", text=TEXT, fields=fields or {}), TEXT, words, threshold)


def split_item(layout: Layout | None = None) -> Tagged:
    sentences = (("Ann", "Lee", "met", "Rome"), ("So", "EU"))
    text, words = joined(sentences)
    return _tagged(Document("x.conll:1", sentences=sentences, layout=layout, docstart=True), text, words, 0.0)


def _tagged(doc: Document, text: str, words: list, threshold: float) -> Tagged:
    toks, spans = [], []
    for w, t in zip(words, TAGS):
        a, b, _ = tag_sentence(w, t, text, threshold)
        toks.append(tuple(a))
        spans += b
    return Tagged(doc, text, tuple(toks), tuple(spans))


def test_outputs_format_from_extension_or_to() -> None:
    assert [output_format(p) for p in ("a.jsonl", "a.csv", "a.conll", "a.spacy", "a.json")] == ["jsonl", "csv", "conll", "spacy", "json"]
    assert output_format("a.txt", "label-studio") == "json" and output_format(None) == "jsonl"
    with pytest.raises(DataError, match=r"out.txt: unknown output format \(extension '.txt'\); name the file .jsonl"):
        output_format("out.txt")
    with pytest.raises(DataError, match=r"unknown output format 'xml'; expected one of: jsonl, csv, conll, spacy, json"):
        output_format("out.jsonl", "xml")


def test_outputs_jsonl_record_keeps_the_source_record() -> None:
    item = raw_item(fields={"id": 7, "text": TEXT, "meta": {"a": 1}})
    rec = record(item)
    assert list(rec) == ["id", "text", "meta", "spans"] and rec["meta"] == {"a": 1}
    assert [(s["text"], s["label"], s["score"]) for s in rec["spans"]] == [("Ann Lee", "PER", 0.85), ("Rome", "LOC", 0.7), ("EU", "ORG", 0.4)]
    assert all(TEXT[s["start"] : s["end"]] == s["text"] for s in rec["spans"])
    split = record(split_item())
    assert split["text"] == "Ann Lee met Rome So EU"
    assert [t["text"] for t in split["tokens"]] == ["Ann", "Lee", "met", "Rome", "So", "EU"]
    assert all(split["text"][t["start"] : t["end"]] == t["text"] for t in split["tokens"])


def test_outputs_threshold_drops_entities_and_their_tags() -> None:
    item = raw_item(threshold=0.75)
    assert [e.text for e in item.entities] == ["Ann Lee"]
    assert [t.tag for s in item.sentences for t in s] == ["B-PER", "I-PER", "O", "O", "O", "O"]


def test_outputs_conll_keeps_the_input_layout() -> None:
    layout = Layout(prefix=(("-DOCSTART- -X- O", ""), ("", "")), suffix=("",))
    assert conll_lines(split_item(layout)) == [
        "-DOCSTART-\tO", "", "Ann\tB-PER", "Lee\tI-PER", "met\tO", "Rome\tB-LOC", "", "", "So\tO", "EU\tB-ORG", ""]
    assert conll_lines(raw_item()) == [
        "-DOCSTART-\tO", "", "Ann\tB-PER", "Lee\tI-PER", "met\tO", "Rome\tB-LOC", "", "So\tO", "EU\tB-ORG", ""]


def test_outputs_files_of_every_format(tmp_path: Path) -> None:
    from spacy.tokens import DocBin

    from tagger.words import _spacy_pipeline

    items = [raw_item(fields={"text": TEXT, "n": 1}), split_item()]
    for ext in ("jsonl", "csv", "conll", "spacy", "json"):
        with open_writer(tmp_path / f"out.{ext}", model_version="m1") as w:
            for item in items:
                w.write(item)
    assert [json.loads(ln)["spans"][0]["text"] for ln in (tmp_path / "out.jsonl").read_text().splitlines()] == ["Ann Lee", "Ann Lee"]
    rows = list(csv.reader((tmp_path / "out.csv").open()))
    assert rows[0] == ["id", "start", "end", "text", "label", "score"] and len(rows) == 1 + 6
    assert rows[1] == ["doc:1", "0", "7", "Ann Lee", "PER", "0.8500"]
    docs = list(DocBin().from_disk(tmp_path / "out.spacy").get_docs(_spacy_pipeline("en").vocab))
    assert [d.text for d in docs] == [TEXT, "Ann Lee met Rome So EU"]
    assert [[(e.text, e.label_) for e in d.ents] for d in docs] == [[("Ann Lee", "PER"), ("Rome", "LOC"), ("EU", "ORG")]] * 2
    assert [len(list(d.sents)) for d in docs] == [2, 2]
    tasks = json.loads((tmp_path / "out.json").read_text())
    assert tasks[0]["data"] == {"text": TEXT, "n": 1} and tasks[1]["data"]["id"] == "x.conll:1"
    assert tasks[0]["predictions"][0]["model_version"] == "m1"
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"out.{e}" for e in ("conll", "csv", "json", "jsonl", "spacy")]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the SDK's pydantic-v1-style validators, at import
def test_outputs_label_studio_tasks_validate_with_the_sdk() -> None:
    from label_studio_sdk.label_interface import LabelInterface

    config = LabelInterface(label_studio_config(["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG"]))
    config.validate()
    for item in (raw_item(), split_item()):
        task = json.loads(json.dumps(label_studio_task(item, "default")))
        # validate_task() checks the data; it cannot take the predictions (it calls validate_prediction() without them)
        assert config.validate_task({"data": task["data"]})
        (pred,) = task["predictions"]
        assert config.validate_prediction(pred, return_errors=True) == []
        assert 0 <= pred["score"] <= 1 and len(pred["result"]) == 3
        assert all(task["data"]["text"][r["value"]["start"] : r["value"]["end"]] == r["value"]["text"] for r in pred["result"])
    bad = {"result": [{"from_name": "label", "to_name": "text", "type": "labels", "value": {"start": 0, "end": 1, "text": "A", "labels": ["XX"]}}]}
    assert config.validate_prediction(bad, return_errors=True)  # the validator does reject what does not fit


@pytest.mark.parametrize("error", [RuntimeError("disk full"), KeyboardInterrupt()])
def test_outputs_error_leaves_no_output_and_no_temp_file(tmp_path: Path, error: BaseException) -> None:
    out = tmp_path / "out.jsonl"
    out.write_text("older results\n")
    with pytest.raises(type(error)), open_writer(out) as w:
        w.write(raw_item())
        raise error
    assert out.read_text() == "older results\n"  # the earlier file is untouched
    assert [p.name for p in tmp_path.iterdir()] == ["out.jsonl"]
    new = tmp_path / "new.conll"
    with pytest.raises(KeyboardInterrupt), open_writer(new) as w:
        raise KeyboardInterrupt
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl"]


def test_outputs_stdout_stream_and_binary_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with open_writer(None) as w:
        assert isinstance(w, JsonlWriter)
        w.write(raw_item())
    assert json.loads(capsys.readouterr().out)["id"] == "doc:1"
    with pytest.raises(DataError, match=r"a .spacy DocBin is binary; give an output file"):
        open_writer(None, "spacy")


def test_outputs_unwritable_folder_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(DataError, match=r"out.jsonl: cannot write the output there"), open_writer(blocker / "out.jsonl"):
        pass
