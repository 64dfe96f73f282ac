"""CoNLL-U: comments, multiword tokens and empty nodes skipped, the label column by name,
documents from ``# newdoc``, and each malformed line named."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import FIXTURES

from tagger.data import DataError, read_file

pytestmark = pytest.mark.unit
UD = FIXTURES / "readers" / "ud_mini.conllu"
ROW = "1\tParis\tParis\tPROPN\tNNP\tNumber=Sing\t0\troot\t_\t_\n"


def test_readers_conllu_multiword_token_and_empty_node_skipped() -> None:
    ds = read_file(UD)
    assert [list(zip(s.words, s.tags)) for s in ds.sentences] == [
        [("Do", "AUX"), ("n't", "PART"), ("go", "VERB"), ("to", "ADP"), ("Paris", "PROPN"), (".", "PUNCT")],
        [("Sue", "PROPN"), ("likes", "VERB"), ("tea", "NOUN"), ("and", "CCONJ"), ("Tom", "PROPN"), ("coffee", "NOUN")],
        [("Hello", "INTJ")],
    ]
    r = ds.report
    assert (r.format, r.label_name, r.label_column, r.scheme, r.columns) == ("conllu", "upos", 3, "plain", 10)
    assert r.conversion == {"CoNLL-U multiword tokens skipped (their words are read)": 1, "CoNLL-U empty nodes skipped": 1}
    assert "CoNLL-U empty nodes skipped: ud_mini.conllu, line 20: 5.1 'likes'" in r.examples
    assert [s.line for s in ds.sentences] == [5, 15, 25]  # the first word's line, comments skipped


def test_readers_conllu_documents_from_newdoc() -> None:
    ds = read_file(UD)
    assert [s.doc for s in ds.sentences] == [1, 1, 2]
    assert ds.report.documents == 2


@pytest.mark.parametrize(("column", "first"), [("xpos", "VBP"), ("XPOS", "VBP"), ("deprel", "aux"), ("feats", "Mood=Ind"),
                                               ("lemma", "do"), (4, "VBP"), ("4", "VBP")])
def test_readers_conllu_label_column_by_name(column: int | str, first: str) -> None:
    ds = read_file(UD, label_column=column)
    assert ds.sentences[0].tags[0] == first
    assert ds.report.label_name == {4: "xpos", "4": "xpos"}.get(column, str(column).lower())


def test_readers_conllu_unknown_column_name() -> None:
    with pytest.raises(DataError) as err:
        read_file(UD, label_column="ner")
    assert str(err.value) == ("ud_mini.conllu: label column 'ner' is not a CoNLL-U column; expected one of: "
                              "lemma, upos, xpos, feats, head, deprel, deps, misc")


def test_readers_conllu_name_on_plain_conll_is_refused() -> None:
    with pytest.raises(DataError, match="label column 'upos' is a name, but CoNLL columns have no names"):
        read_file(FIXTURES / "conll2003_mini.txt", label_column="upos")


@pytest.mark.parametrize(("name", "content", "line", "message"), [
    ("short.conllu", "# text = Paris\n1\tParis\tPROPN\n", 2,
     "3 tab-separated columns, expected the 10 of CoNLL-U (ID FORM LEMMA UPOS XPOS FEATS HEAD DEPREL DEPS MISC)"),
    ("id.conllu", ROW + "x" + ROW[1:], 2, "ID 'x' is not a word number, a range like 1-2 or an empty node like 8.1"),
    ("form.conllu", ROW + "2\t\t_\tX\t_\t_\t0\troot\t_\t_\n", 2, "empty FORM (column 2); expected the word"),
    ("comments.conllu", "# newdoc\n# text = nothing\n", None, "contains no sentences (only comments or blank lines)"),
    ("noxpos.conllu", "1\tParis\tParis\tPROPN\t_\t_\t0\troot\t_\t_\n", None,
     "column XPOS is empty ('_') on every word; choose another label column (upos, xpos, deprel ...)"),
])
def test_readers_conllu_bad_lines(tmp_path: Path, name: str, content: str, line: int | None, message: str) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DataError) as err:
        read_file(path, label_column="xpos" if name == "noxpos.conllu" else -1)
    assert str(err.value) == (f"{name}, line {line}: {message}" if line else f"{name}: {message}")


def test_readers_conllu_detected_without_the_suffix(tmp_path: Path) -> None:
    path = tmp_path / "treebank.txt"
    path.write_bytes(UD.read_bytes().replace(b"\n", b"\r\n"))
    ds = read_file(path)
    assert ds.report.format == "conllu" and ds.report.sentences == 3
