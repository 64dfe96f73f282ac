"""spaCy DocBin (.spacy): entities, or tag_/pos_ for taggers; each Doc a document; whitespace
tokens left out as at prediction time."""

from __future__ import annotations

from pathlib import Path

import pytest

from tagger.data import DataError, read_file

pytestmark = pytest.mark.unit


def _docbin(tmp_path: Path, name: str, sentenced: bool = True, ents: bool = True, tags: bool = False) -> Path:
    import spacy
    from spacy.tokens import Doc, DocBin

    vocab = spacy.blank("en").vocab
    db = DocBin()
    words = ["Angela", "Merkel", "visited", "Paris", ".", "\n\n", "She", "left", "."]
    kwargs: dict = {}
    if sentenced:
        kwargs["sent_starts"] = [True, False, False, False, False, False, True, False, False]
    if ents:
        kwargs["ents"] = ["B-PER", "I-PER", "O", "B-LOC", "O", "O", "O", "O", "O"]
    if tags:
        kwargs["tags"] = ["NNP", "NNP", "VBD", "NNP", ".", "_SP", "PRP", "VBD", "."]
        kwargs["pos"] = ["PROPN", "PROPN", "VERB", "PROPN", "PUNCT", "SPACE", "PRON", "VERB", "PUNCT"]
    db.add(Doc(vocab, words=words, spaces=[True, True, True, False, False, False, True, False, False], **kwargs))
    db.add(Doc(vocab, words=["Bonn", "rocks"], ents=["B-LOC", "O"] if ents else None,
               tags=["NNP", "VBZ"] if tags else None, pos=["PROPN", "VERB"] if tags else None))
    path = tmp_path / name
    db.to_disk(path)
    return path


def test_readers_docbin_entities(tmp_path: Path) -> None:
    ds = read_file(_docbin(tmp_path, "ner.spacy"))
    assert [list(zip(s.words, s.tags)) for s in ds.sentences] == [
        [("Angela", "B-PER"), ("Merkel", "I-PER"), ("visited", "O"), ("Paris", "B-LOC"), (".", "O")],
        [("She", "O"), ("left", "O"), (".", "O")],
        [("Bonn", "B-LOC"), ("rocks", "O")],
    ]
    assert [s.doc for s in ds.sentences] == [1, 1, 2]
    assert (ds.report.format, ds.report.label_name, ds.report.documents) == ("spacy", "ents", 2)


def test_readers_docbin_sentencized_like_prediction_when_docs_have_no_sentences(tmp_path: Path) -> None:
    ds = read_file(_docbin(tmp_path, "nosent.spacy", sentenced=False))
    assert [s.words for s in ds.sentences] == [["Angela", "Merkel", "visited", "Paris", "."], ["She", "left", "."], ["Bonn", "rocks"]]


@pytest.mark.parametrize(("column", "first"), [("tag", ["NNP", "NNP", "VBD", "NNP", "."]), ("pos", ["PROPN", "PROPN", "VERB", "PROPN", "PUNCT"]),
                                               ("upos", ["PROPN", "PROPN", "VERB", "PROPN", "PUNCT"])])
def test_readers_docbin_tags_and_pos(tmp_path: Path, column: str, first: list[str]) -> None:
    ds = read_file(_docbin(tmp_path, "pos.spacy", ents=False, tags=True), label_column=column)
    assert ds.sentences[0].tags == first and ds.report.scheme == "plain"


def test_readers_docbin_default_is_pos_without_entities(tmp_path: Path) -> None:
    assert read_file(_docbin(tmp_path, "pos.spacy", ents=False, tags=True)).report.label_name == "pos"


def test_readers_docbin_errors(tmp_path: Path) -> None:
    with pytest.raises(DataError) as err:
        read_file(_docbin(tmp_path, "bare.spacy", ents=False))
    assert str(err.value) == ("bare.spacy: no Doc in this file has entities, POS or tags; "
                              "expected a DocBin with doc.ents, token.pos_ or token.tag_")
    with pytest.raises(DataError, match=r"^ner\.spacy: no Doc in this file has tag annotation"):
        read_file(_docbin(tmp_path, "ner.spacy"), label_column="tag")
    bad = tmp_path / "broken.spacy"
    bad.write_bytes(b"x\x9c" + bytes(range(40)))
    with pytest.raises(DataError, match=r"^broken\.spacy: cannot read it as a spaCy DocBin"):
        read_file(bad)
