"""Several files (or a zip) as one data set: the format detected per file, with an override;
documents kept apart; what an archive holds besides data is skipped and counted."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest
from support import FIXTURES

from tagger.data import DataError, read_file, read_files
from tagger.readers import canonical, detect

pytestmark = pytest.mark.unit
R = FIXTURES / "readers"
CONLL = FIXTURES / "conll2003_mini.txt"


@pytest.mark.parametrize(("path", "fmt"), [
    (CONLL, "conll"), (FIXTURES / "mini.jsonl", "jsonl"), (R / "ud_mini.conllu", "conllu"), (R / "doccano.jsonl", "spans"),
    (R / "prodigy.jsonl", "spans"), (R / "labelstudio.json", "json"), (R / "hf" / "train.jsonl", "jsonl"),
    (R / "autotrain.csv", "csv"), (R / "kaggle_ner.csv", "csv"), (R / "tokens.tsv", "tsv"),
])
def test_readers_files_detect(path: Path, fmt: str) -> None:
    assert detect(path, path.read_bytes()[:8192]) == fmt


def test_readers_files_mixed_formats_in_one_upload() -> None:
    ds = read_files([R / "doccano.jsonl", CONLL, R / "prodigy.jsonl", R / "labelstudio.json"])
    r = ds.report
    assert r.format == "doccano+conll+prodigy+labelstudio"
    assert r.sentences == 9 + 4 + 5 + 3
    assert r.sources == ["doccano.jsonl (doccano, 9 sentences)", "conll2003_mini.txt (conll, 4 sentences)",
                         "prodigy.jsonl (prodigy, 5 sentences)", "labelstudio.json (labelstudio, 3 sentences)"]
    assert r.file == "doccano.jsonl, conll2003_mini.txt and 2 more files"
    assert set(r.labels) == {"PER", "LOC", "ORG", "MISC", "DRUG"}
    assert r.scheme == "IOB2+IOB1"
    assert r.conversion["records"] == 8 + 6 + 4 and r.conversion["records answered reject (not trained on)"] == 1
    # documents: increasing through the data set, never shared across files
    docs = [s.doc for s in ds.sentences]
    assert docs == sorted(docs) and r.documents == len(set(docs)) == 8 + 2 + 4 + 3
    assert ds.sentences[9].words[:2] == ["EU", "rejects"]  # the CoNLL file's sentences follow the doccano file's


def test_readers_files_plain_and_entity_files_do_not_mix() -> None:
    with pytest.raises(DataError) as err:
        read_files([R / "doccano.jsonl", R / "ud_mini.conllu"])
    assert str(err.value) == "ud_mini.conllu: plain labels (POS-like), but doccano.jsonl has entity tags (B-/I-); one data set needs one kind"


def test_readers_files_zip(tmp_path: Path) -> None:
    archive = tmp_path / "upload.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(R / "doccano.jsonl", "export/part-1.jsonl")
        zf.write(R / "doccano_old.jsonl", "export/part-2.jsonl")
        zf.write(R / "hf" / "train.jsonl", "hf/train.jsonl")
        zf.write(R / "hf" / "dataset_info.json", "hf/dataset_info.json")  # stays beside its data: ids get names
        zf.writestr("export/README.md", "notes")
        zf.writestr("__MACOSX/export/._part-1.jsonl", "junk")
    for ds in (read_files([archive]), read_file(archive)):
        assert ds.report.sources == ["part-1.jsonl (doccano, 9 sentences)", "part-2.jsonl (doccano, 1 sentence)",
                                     "train.jsonl (jsonl, 2 sentences)"]
        assert ds.sentences[-1].tags == ["B-PER", "O", "O", "B-LOC", "I-LOC"]
        assert ds.report.conversion["archive members skipped (not data)"] == 2


def test_readers_files_fifty_files_as_one(tmp_path: Path) -> None:
    paths = []
    for i in range(50):
        paths.append(tmp_path / f"{i:03d}_en.jsonl")
        shutil.copy(R / "doccano_entities.jsonl", paths[-1])
    ds = read_files(paths)
    assert ds.report.sentences == ds.report.documents == 50
    assert ds.report.labels == {"PER": 50, "LOC": 50}
    assert "… and 42 more" in ds.report.summary()


def test_readers_files_format_override(tmp_path: Path) -> None:
    odd = tmp_path / "export.data"
    odd.write_bytes((R / "doccano.jsonl").read_bytes())
    assert read_file(odd, fmt="doccano").report.format == "doccano"
    with pytest.raises(DataError, match=r"^export\.data, line 1: expected keys \"tokens\" and \"tags\""):
        read_file(odd, fmt="jsonl")
    with pytest.raises(DataError, match="unknown format 'excel'; expected one of: auto, conll, conllu"):
        canonical("excel")


def test_readers_files_bad_archives(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"PK\x03\x04" + bytes(60))
    with pytest.raises(DataError, match=r"^bad\.zip: this is a zip archive but it cannot be opened"):
        read_files([bad])
    empty = tmp_path / "docs.zip"
    with zipfile.ZipFile(empty, "w") as zf:
        zf.writestr("README.md", "no data here")
    with pytest.raises(DataError) as err:
        read_files([empty])
    assert str(err.value) == "docs.zip: the archive holds no data files (skipped: README.md)"
    big = tmp_path / "big.zip"
    with zipfile.ZipFile(big, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("zeros.conll", "a O\n" * 300_000)  # 1.2 MB unpacked, a few KB packed
    with pytest.raises(DataError, match=r"^big\.zip: zeros\.conll is 1 MB unpacked; the limit is 0 MB"):
        read_files([big], max_bytes=100_000)


def test_readers_files_dev_labels_missing_from_train() -> None:
    from tagger.train import TrainingError, label_list

    train = read_files([R / "prodigy.jsonl"])
    dev = read_files([R / "doccano.jsonl"])  # dev in another format: fine, but its labels are not in train
    with pytest.raises(TrainingError, match="dev data has labels the training data lacks: LOC, ORG, PER"):
        label_list(train.sentences, dev.sentences)


def test_readers_files_detect_by_content_not_name(tmp_path: Path) -> None:
    text = tmp_path / "data.iob"
    text.write_text("x O\ny B-PER\n")  # "x " is a valid zlib header: the content must still inflate to count as .spacy
    assert read_file(text).report.format == "conll"
    spacy_file = tmp_path / "export.bin"
    from tagger.convert import write

    write(read_file(R / "doccano_old.jsonl").sentences, "spacy", spacy_file)
    assert read_file(spacy_file).report.format == "spacy"
