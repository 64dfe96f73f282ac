"""Token records as ``datasets`` exports them (JSON lines, JSON, Parquet, Arrow): label names or
integer ids, named by a label list, a ``dataset_info.json`` beside the file or the file's metadata."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from support import FIXTURES

from tagger.data import DataError, read_file

pytestmark = pytest.mark.unit
HF = FIXTURES / "readers" / "hf"
NER = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
WANT = [
    [("Angela", "B-PER"), ("Merkel", "I-PER"), ("visited", "O"), ("Berlin", "B-LOC"), (".", "O")],
    [("Tom", "B-PER"), ("slept", "O"), ("in", "O"), ("New", "B-LOC"), ("York", "I-LOC")],
]
ROWS = [json.loads(ln) for ln in (HF / "train.jsonl").read_text().splitlines()]


def pairs(path: Path, **kwargs: object) -> list[list[tuple[str, str]]]:
    return [list(zip(s.words, s.tags)) for s in read_file(path, **kwargs).sentences]


def test_readers_columnar_ids_named_by_dataset_info_beside_the_file() -> None:
    ds = read_file(HF / "train.jsonl")
    assert [list(zip(s.words, s.tags)) for s in ds.sentences] == WANT
    assert (ds.report.format, ds.report.label_name) == ("jsonl", "ner_tags")
    pos = read_file(HF / "train.jsonl", label_column="pos_tags")
    assert pos.sentences[1].tags == ["NNP", "VBD", "IN", "NNP", "NNP"] and pos.report.scheme == "plain"


def test_readers_columnar_ids_without_names_is_an_error(tmp_path: Path) -> None:
    shutil.copy(HF / "train.jsonl", tmp_path / "train.jsonl")  # no dataset_info.json beside it
    with pytest.raises(DataError) as err:
        read_file(tmp_path / "train.jsonl")
    assert str(err.value) == (
        'train.jsonl, line 1: "ner_tags" holds integer ids (1) with no label names; give the names in id order '
        "(--labels O,B-PER,I-PER,… or the label list box) or put the dataset's dataset_info.json beside the file"
    )


def test_readers_columnar_user_label_list(tmp_path: Path) -> None:
    shutil.copy(HF / "train.jsonl", tmp_path / "train.jsonl")
    assert pairs(tmp_path / "train.jsonl", labels=",".join(NER)) == WANT
    assert pairs(tmp_path / "train.jsonl", labels=NER) == WANT
    with pytest.raises(DataError) as err:
        read_file(tmp_path / "train.jsonl", labels="O,B-PER,I-PER")
    assert str(err.value) == 'train.jsonl, line 1: "ner_tags" id 3 has no name: the label list given has 3 names (ids 0..2)'


def test_readers_columnar_unknown_key_name(tmp_path: Path) -> None:
    with pytest.raises(DataError) as err:
        read_file(HF / "train.jsonl", label_column="chunk_tags")
    assert str(err.value) == 'train.jsonl, line 1: no "chunk_tags" key; keys holding lists: ner_tags, pos_tags'


def test_readers_columnar_json_array_and_column_dict(tmp_path: Path) -> None:
    shutil.copy(HF / "dataset_info.json", tmp_path / "dataset_info.json")
    (tmp_path / "records.json").write_text(json.dumps(ROWS))
    assert pairs(tmp_path / "records.json") == WANT
    columns = {k: [r[k] for r in ROWS] for k in ROWS[0]}
    (tmp_path / "columns.json").write_text(json.dumps(columns, indent=2))
    assert pairs(tmp_path / "columns.json") == WANT
    assert read_file(tmp_path / "columns.json").report.format == "json"


def _table() -> object:
    import pyarrow as pa  # requirements.txt: a missing one fails
    features = json.loads((HF / "dataset_info.json").read_text())["features"]
    schema = pa.schema([("id", pa.string()), ("tokens", pa.list_(pa.string())), ("ner_tags", pa.list_(pa.int64())),
                        ("pos_tags", pa.list_(pa.int64()))],
                       metadata={"huggingface": json.dumps({"info": {"features": features}})})
    return pa.Table.from_pylist(ROWS, schema=schema)


def test_readers_columnar_parquet_names_from_its_own_metadata(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    pq.write_table(_table(), tmp_path / "train-00000.parquet")
    ds = read_file(tmp_path / "train-00000.parquet")
    assert [list(zip(s.words, s.tags)) for s in ds.sentences] == WANT
    assert ds.report.format == "parquet"


def test_readers_columnar_parquet_ids_without_names(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    pq.write_table(_table().replace_schema_metadata(None), tmp_path / "x.parquet")  # type: ignore[attr-defined]
    with pytest.raises(DataError, match=r'^x\.parquet, row 1: "ner_tags" holds integer ids \(1\) with no label names'):
        read_file(tmp_path / "x.parquet")
    assert pairs(tmp_path / "x.parquet", labels=NER) == WANT


def test_readers_columnar_arrow_stream(tmp_path: Path) -> None:
    import pyarrow as pa

    table = _table()
    with pa.OSFile(str(tmp_path / "data-00000-of-00001.arrow"), "wb") as sink, pa.ipc.new_stream(sink, table.schema) as w:  # type: ignore[attr-defined]
        w.write_table(table)
    assert pairs(tmp_path / "data-00000-of-00001.arrow") == WANT


def test_readers_columnar_real_datasets_exports(tmp_path: Path) -> None:
    """The files the ``datasets`` library itself writes: to_json, to_json(lines=False), to_parquet,
    to_csv (numpy-repr lists), save_to_disk (Arrow + dataset_info.json)."""
    import datasets  # requirements-dev.txt: a missing one fails
    features = datasets.Features({
        "tokens": datasets.Sequence(datasets.Value("string")),
        "ner_tags": datasets.Sequence(datasets.ClassLabel(names=NER)),
    })
    ds = datasets.Dataset.from_dict({"tokens": [r["tokens"] for r in ROWS], "ner_tags": [r["ner_tags"] for r in ROWS]}, features=features)
    ds.to_parquet(tmp_path / "p.parquet")
    assert pairs(tmp_path / "p.parquet") == WANT
    ds.save_to_disk(tmp_path / "saved")
    assert pairs(next((tmp_path / "saved").glob("*.arrow"))) == WANT
    (tmp_path / "exports").mkdir()
    ds.info.write_to_directory(tmp_path / "exports")  # dataset_info.json beside the JSON/CSV files
    ds.to_json(tmp_path / "exports" / "t.jsonl")
    ds.to_json(tmp_path / "exports" / "t.json", lines=False)
    ds.to_csv(tmp_path / "exports" / "t.csv", index=False)
    for name in ("t.jsonl", "t.json", "t.csv"):
        assert pairs(tmp_path / "exports" / name) == WANT, name
