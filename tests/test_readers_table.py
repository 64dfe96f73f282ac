"""CSV and TSV: list-valued rows (AutoTrain) and one row per token with a sentence id (Kaggle NER)."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import FIXTURES

from tagger.data import DataError, read_file

pytestmark = pytest.mark.unit
R = FIXTURES / "readers"


def pairs(path: Path, **kwargs: object) -> list[list[tuple[str, str]]]:
    return [list(zip(s.words, s.tags)) for s in read_file(path, **kwargs).sentences]


def test_readers_table_autotrain_list_cells() -> None:
    assert pairs(R / "autotrain.csv") == [
        [("EU", "B-ORG"), ("rejects", "O"), ("German", "B-MISC"), ("call", "O")],  # Python-literal lists
        [("Peter", "B-PER"), ("Blackburn", "I-PER")],  # JSON lists
    ]
    r = read_file(R / "autotrain.csv").report
    assert (r.format, r.separator, r.label_name) == ("csv", "comma, list-valued rows", "tags")


def test_readers_table_kaggle_rows_with_blank_sentence_ids() -> None:
    assert pairs(R / "kaggle_ner.csv") == [
        [("Thousands", "O"), ("of", "O"), ("demonstrators", "O"), ("in", "O"), ("London", "B-geo"), (",", "O")],
        [("Iranian", "B-gpe"), ("officials", "O")],
    ]
    pos = read_file(R / "kaggle_ner.csv", label_column="POS")
    assert pos.sentences[0].tags == ["NNS", "IN", "NNS", "IN", "NNP", ","] and pos.report.scheme == "plain"


def test_readers_table_tsv_sentence_ids() -> None:
    assert pairs(R / "tokens.tsv") == [[("John", "B-PER"), ("smiled", "O")], [("Rome", "B-LOC"), ("is", "O"), ("old", "O")]]
    assert read_file(R / "tokens.tsv").report.format == "tsv"


def test_readers_table_latin1_and_integer_ids(tmp_path: Path) -> None:
    path = tmp_path / "l1.csv"
    path.write_bytes("sentence_id,word,tag\n1,Müller,1\n1,sagt,0\n".encode("latin-1"))
    with pytest.raises(DataError, match=r'^l1\.csv, line 2: "tag" holds integer ids \(1\) with no label names'):
        read_file(path)
    ds = read_file(path, labels="O B-PER")
    assert [list(zip(s.words, s.tags)) for s in ds.sentences] == [[("Müller", "B-PER"), ("sagt", "O")]]
    assert any("Latin-1" in w for w in ds.report.warnings)


@pytest.mark.parametrize(("name", "content", "message"), [
    ("nohead.csv", "a,b\n1,2\n", ("l1: expected a header row naming a tokens column (tokens, words, token, word, form) and a tags column; "
                                 "the header has: a, b")),
    ("ragged.csv", "sentence_id,word,tag\n1,EU,B-ORG\n1,rejects\n", "l3: 2 fields, expected 3 like the header (CSV)"),
    ("notlist.csv", 'tokens,tags\n"[""EU""]","[""B-ORG""]"\nEU rejects,O O\n', ('l3: "tokens" is not a list; expected a list like '
                                                                              '["EU", "rejects"] in every row')),
    ("length.csv", 'tokens,tags\n"[""EU"", ""says""]","[""B-ORG""]"\n', 'l2: "tokens" has 2 items but "tags" has 1; expected equal lengths'),
    ("empty.tsv", "sentence_id\tword\tlabel\n1\tEU\t\n", 'l2: empty "label" field; expected a word and its label'),
    ("name.csv", "tokens,tags\n\"['a']\",\"['O']\"\n", "l1: no column named 'upos'; the header has: tokens, tags"),
])
def test_readers_table_bad_files(tmp_path: Path, name: str, content: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DataError) as err:
        read_file(path, label_column="upos" if name == "name.csv" else -1)
    where, text = message.split(": ", 1)
    assert str(err.value) == f"{name}, line {where[1:]}: {text}"
