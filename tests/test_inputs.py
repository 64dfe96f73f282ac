"""Unlabeled documents from every input format (tagger.inputs): text, JSONL/JSON, CSV/TSV, CoNLL,
CoNLL-U, DocBin, zip; streaming (one document at a time); and a specific error for each bad input."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from support import FIXTURES, two_sentences_conll

from tagger import inputs
from tagger.errors import DataError
from tagger.inputs import Documents, ReadSettings

pytestmark = pytest.mark.unit


def docs_of(path: Path, fmt: str = "auto", **settings: object) -> list[inputs.Document]:
    return list(Documents(path, fmt, settings=ReadSettings(**settings)))  # type: ignore[arg-type]


def test_inputs_text_file_is_one_document_or_one_per_line(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("Angela Merkel met Macron.\n\nJohn lives in Berlin.\n", encoding="utf-8")
    (doc,) = docs_of(path)
    assert doc.id == "notes.txt" and doc.text == path.read_text(encoding="utf-8") and doc.sentences is None
    by_line = docs_of(path, lines=True)
    assert [(d.id, d.text, d.where) for d in by_line] == [
        ("notes.txt:1", "Angela Merkel met Macron.", 1), ("notes.txt:3", "John lives in Berlin.", 3)]
    assert by_line[-1].bytes_read == path.stat().st_size


def test_inputs_big_text_file_streams_in_parts_at_blank_lines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(inputs.text, "PART_CHARS", 50)  # the constant its reader reads
    paragraphs = [f"Paragraph {i} is about Paris and Berlin.\nIt has two lines.\n" for i in range(12)]
    text = "\n".join(paragraphs) + "x" * 130 + "\n"  # and one line longer than two parts
    path = tmp_path / "big.txt"
    path.write_text(text, encoding="utf-8")
    parts = docs_of(path)
    assert len(parts) > 5 and all(p.part for p in parts)
    assert "".join(p.text or "" for p in parts) == text  # nothing lost or repeated
    assert all(text[p.offset : p.offset + len(p.text or "")] == p.text for p in parts)  # offsets into the file
    assert all(len(p.text or "") <= 100 for p in parts)
    cut_at_blank = [p for p in parts[:-4] if not p.text.endswith("\n\n")]  # type: ignore[union-attr]  # last: before the long line, its 3 pieces
    assert cut_at_blank == []


def test_inputs_jsonl_keeps_records_and_names_the_missing_field(tmp_path: Path) -> None:
    path = tmp_path / "docs.jsonl"
    path.write_text(json.dumps({"id": "a1", "text": "Paris", "meta": {"k": 1}}) + "\n\n" + json.dumps({"body": "x"}) + "\n")
    docs = Documents(path)
    first = next(iter(docs))
    assert (first.id, first.text, first.fields, first.where) == ("a1", "Paris", {"id": "a1", "text": "Paris", "meta": {"k": 1}}, 1)
    with pytest.raises(DataError, match=r'docs.jsonl, line 3: no "text" field; the record has "body" \(choose the text field'):
        list(docs)
    path.write_text('{"body": "x"}\n')
    (body,) = docs_of(path, text_field="body")
    assert body.text == "x" and body.id == "docs.jsonl:1"


@pytest.mark.parametrize(("line", "message"), [
    ("{not json", r"line 1: invalid JSON \(Expecting property name"),
    ("[1, 2]", r"line 1: a JSON list; expected an object"),
    ('{"text": null}', r'line 1: "text" is null; expected a string'),
    ('{"text": 3}', r'line 1: "text" is int; expected a string'),
])
def test_inputs_jsonl_bad_records(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(line + "\n")
    with pytest.raises(DataError, match=message):
        docs_of(path, "jsonl")


def test_inputs_json_list_and_label_studio_tasks(tmp_path: Path) -> None:
    path = tmp_path / "tasks.json"
    path.write_text(json.dumps([{"data": {"text": "Paris", "n": 1}}, {"id": 9, "text": "Berlin"}]))
    docs = docs_of(path)
    assert [(d.id, d.text, d.unit) for d in docs] == [("tasks.json:1", "Paris", "record"), ("9", "Berlin", "record")]
    assert docs[0].fields == {"text": "Paris", "n": 1}


def test_inputs_csv_and_tsv_rows(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    path.write_text('id,Text,source\n1,"Paris, France",web\n\n2,"two\nlines",mail\n', encoding="utf-8")
    docs = docs_of(path)
    assert [(d.id, d.text, d.fields["source"], d.text_key) for d in docs] == [("1", "Paris, France", "web", "Text"),
                                                                               ("2", "two\nlines", "mail", "Text")]
    tsv = tmp_path / "rows.tsv"
    tsv.write_text("body\tlang\nBerlin is big\ten\n", encoding="utf-8")
    assert [d.text for d in docs_of(tsv, text_column="body")] == ["Berlin is big"]
    with pytest.raises(DataError, match=r'rows.tsv, line 1: no "text" column; the header has "body", "lang"'):
        docs_of(tsv)
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("text,b\nx,1\ny,2,3\n")
    with pytest.raises(DataError, match=r"ragged.csv, line 3: 3 fields, expected 2 like the header"):
        docs_of(ragged)


def test_inputs_conll_keeps_words_sentences_documents_and_layout(tmp_path: Path) -> None:
    mini = FIXTURES / "conll2003_mini.txt"
    docs = docs_of(mini)
    assert Documents(mini).format == "conll"
    assert [len(d.sentences or ()) for d in docs] == [2, 2] and all(d.docstart for d in docs)
    assert docs[0].sentences[0][:3] == ("EU", "rejects", "German")  # type: ignore[index]
    assert docs[0].layout is not None and docs[0].layout.prefix[0] == ("-DOCSTART-", "")
    # tab-separated: a word may hold spaces; one word per line (no labels) is CoNLL too
    tabbed = tmp_path / "re.conll"
    tabbed.write_text("New York\tB-LOC\nis\tO\n\nOK\tO\n", encoding="utf-8")
    assert docs_of(tabbed)[0].sentences == (("New York", "is"), ("OK",))
    words = tmp_path / "words.txt"
    words.write_text("EU\nrejects\n\nGerman\ncalls\n", encoding="utf-8")
    assert Documents(words).format == "conll" and docs_of(words)[0].sentences == (("EU", "rejects"), ("German", "calls"))


def test_inputs_long_conll_document_goes_on_in_parts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(inputs.tokenized, "MAX_DOC_SENTENCES", 2)
    path = tmp_path / "x.conll"
    path.write_text("-DOCSTART- O\n\n" + two_sentences_conll() + "\n" + two_sentences_conll() + "\n\n", encoding="utf-8")
    docs = docs_of(path)
    assert [len(d.sentences or ()) for d in docs] == [2, 2] and [d.docstart for d in docs] == [True, False]
    lines = sum(len(p) for d in docs for p in d.layout.prefix) + sum(len(d.layout.suffix) for d in docs)  # type: ignore[union-attr]
    words = sum(len(s) for d in docs for s in d.sentences or ())
    assert lines + words == len(path.read_text().splitlines())  # every line accounted for, once


def test_inputs_conllu_words_and_newdoc(tmp_path: Path) -> None:
    path = FIXTURES / "readers" / "ud_mini.conllu"
    docs = docs_of(path)
    assert Documents(path).format == "conllu" and docs and all(d.layout is None for d in docs)
    text = path.read_text(encoding="utf-8")
    forms = [ln.split("\t")[1] for ln in text.splitlines() if ln and not ln.startswith("#") and ln.split("\t")[0].isdigit()]
    assert [w for d in docs for s in d.sentences or () for w in s] == forms
    assert sum(d.docstart for d in docs) == text.count("# newdoc")


def test_inputs_docbin_words(tmp_path: Path) -> None:
    import spacy
    from spacy.tokens import DocBin

    nlp = spacy.blank("en")
    db = DocBin()
    db.add(nlp("Angela Merkel visited Paris.  Then Berlin."))
    path = tmp_path / "x.spacy"
    db.to_disk(path)
    (doc,) = docs_of(path)
    assert [w for s in doc.sentences or () for w in s] == ["Angela", "Merkel", "visited", "Paris", ".", "Then", "Berlin", "."]
    assert doc.unit == "doc" and doc.id == "x.spacy:1"


def test_inputs_zip_of_several_formats(tmp_path: Path) -> None:
    path = tmp_path / "batch.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("a/one.jsonl", json.dumps({"text": "Paris"}) + "\n")
        zf.writestr("a/two.conll", two_sentences_conll())
        zf.writestr("README.md", "not data")
    docs = Documents(path)
    folder = Path(docs._tmp.name)  # type: ignore[union-attr]
    got = list(docs)
    assert [(d.source, d.text is None) for d in got] == [("batch.zip:one.jsonl", False), ("batch.zip:two.conll", True)]
    assert got[-1].bytes_read == docs.total_bytes
    assert not folder.exists()  # the extracted members are gone once read


def test_inputs_stream_one_document_at_a_time(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    with path.open("w") as f:
        for i in range(20_000):
            f.write(json.dumps({"text": f"Document {i} about Paris."}) + "\n")
    it = iter(Documents(path))
    first = next(it)
    assert first.bytes_read < 100 and first.text == "Document 0 about Paris."
    it.close()


@pytest.mark.parametrize(("content", "name", "message"), [
    (b"", "empty.txt", r"empty.txt: the file is empty; expected plain text"),
    (b"\n  \n\n", "blank.txt", r"blank.txt: contains only blank lines"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, "pic.txt", r"pic.txt: this is a PNG image"),
    (b"abc\x00\x01\x02 binary", "data.bin", r"data.bin: this is a binary file \(NUL bytes\)"),
    (b"PAR1" + b"\x00" * 20, "x.parquet", r"x.parquet: parquet files are not read for tagging"),
])
def test_inputs_bad_files_get_specific_errors(tmp_path: Path, content: bytes, name: str, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DataError, match=message):
        docs_of(path)


def test_inputs_binary_data_after_the_head_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "late.jsonl"
    path.write_bytes((json.dumps({"text": "ok"}) + "\n").encode() * 1000 + b'{"text": "a\x00b"}\n')  # past the first 8 KB
    with pytest.raises(DataError, match=r"late.jsonl, line 1001: binary data \(NUL bytes\)"):
        docs_of(path)


def test_inputs_size_limit_names_the_limit_and_how_to_raise_it(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_text("Paris " * 500_000)
    with pytest.raises(DataError, match=r"big.txt: the file is 3.0 MB, over the limit of 1.0 MB; raise the limit \(--max-mb"):
        Documents(path, max_bytes=1_000_000)
    with pytest.raises(DataError, match=r"unknown input format 'xml'; expected one of: auto, text"):
        Documents(path, "xml")
    with pytest.raises(DataError, match=r"missing.txt: file not found"):
        Documents(tmp_path / "missing.txt")
