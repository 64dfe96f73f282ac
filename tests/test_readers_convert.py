"""``convert`` round trips (every output format reads back as the same words, labels and documents)
and the data commands of the CLI: report FILE..., --label-column by name, --labels, --format."""

from __future__ import annotations

from itertools import groupby
from pathlib import Path

import pytest
from support import FIXTURES

from tagger.cli import main
from tagger.convert import WRITERS, write
from tagger.data import Dataset, read_file, read_files

pytestmark = pytest.mark.unit
R = FIXTURES / "readers"


def shape(ds: Dataset) -> list[list[tuple[list[str], list[str]]]]:
    """Sentences (words, tags) grouped by document: what a round trip must keep."""
    return [[(s.words, s.tags) for s in doc] for _, doc in groupby(ds.sentences, key=lambda s: s.doc)]


@pytest.mark.parametrize("fmt", WRITERS)
def test_readers_convert_round_trip_entities(tmp_path: Path, fmt: str) -> None:
    source = read_files([R / "doccano.jsonl", R / "prodigy.jsonl", FIXTURES / "conll2003_mini.txt"])
    out = write(source.sentences, fmt, tmp_path / f"all.{fmt}")
    back = read_file(out)
    assert back.report.format == fmt
    assert shape(back) == shape(source)
    assert back.report.labels == source.report.labels


@pytest.mark.parametrize("fmt", WRITERS)
def test_readers_convert_round_trip_plain_labels(tmp_path: Path, fmt: str) -> None:
    source = read_file(R / "ud_mini.conllu", label_column="xpos")
    back = read_file(write(source.sentences, fmt, tmp_path / f"pos.{fmt}", plain=True))
    assert shape(back) == shape(source) and back.report.scheme == "plain"


def test_readers_convert_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out" / "train.spacy"
    assert main(["convert", str(R / "doccano.jsonl"), str(R / "doccano_old.jsonl"), "--to", "spacy", str(out)]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == f"wrote 10 sentences (9 documents) as spacy to {out}"
    assert "conversion: records 9; spans 14" in captured.err
    assert read_file(out).report.sentences == 10
    assert main(["convert", str(R / "doccano.jsonl"), "--to", "xlsx", str(tmp_path / "x.xlsx")]) == 2
    assert capsys.readouterr().err.strip() == "error: x.xlsx: cannot write format 'xlsx'; expected one of: conll, jsonl, spacy"
    assert not (tmp_path / "x.xlsx").exists()


def test_readers_convert_cli_report_several_files(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(R / "prodigy.jsonl"), str(R / "labelstudio.json"), "--annotator", "1"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("prodigy.jsonl, labelstudio.json: 8 sentences")
    assert "file: labelstudio.json (labelstudio, 3 sentences)" in text
    assert "example: records answered reject (not trained on): prodigy.jsonl, line 2: 'Heroin is bad.'" in text


def test_readers_convert_cli_label_column_name_and_labels(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(R / "ud_mini.conllu"), "--label-column", "xpos"]) == 0
    assert "labels from xpos" in capsys.readouterr().out
    ids = tmp_path / "ids.jsonl"
    ids.write_bytes((R / "hf" / "train.jsonl").read_bytes())
    assert main(["report", str(ids)]) == 2
    assert "integer ids (1) with no label names" in capsys.readouterr().err
    names = tmp_path / "labels.txt"
    names.write_text("O\nB-PER\nI-PER\nB-LOC\nI-LOC\n")
    assert main(["report", str(ids), "--labels", str(names)]) == 0
    assert "labels: PER 2, LOC 2" in capsys.readouterr().out
    assert main(["report", str(ids), "--labels", "O,B-PER,I-PER,B-LOC,I-LOC", "--json"]) == 0
    assert '"label_name": "ner_tags"' in capsys.readouterr().out


def test_readers_convert_cli_format_and_no_snap(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(R / "doccano.jsonl"), "--format", "doccano", "--no-snap"]) == 0
    assert "spans: dropped, cut a word (snapping off) 1" in capsys.readouterr().out
    assert main(["report", str(R / "doccano.jsonl"), "--format", "conllu"]) == 2
    assert capsys.readouterr().err.startswith("error: doccano.jsonl, line 1: 1 tab-separated columns, expected the 10 of CoNLL-U")
