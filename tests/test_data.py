"""Readers (CoNLL columns, JSONL), tag schemes, the data report, and every bad input the
issue #5 matrix lists: each gives a DataError naming the file and, where it can, the line."""

from __future__ import annotations

import json
import time
import tracemalloc
from pathlib import Path

import pytest
from conftest import FIXTURES, SHARED_DATA, needs_shared

from tagger import corpus
from tagger.data import DataError, Sentence, read_file, split_holdout
from tagger.schemes import SchemeError, detect_scheme, iob2_spans, to_iob2
from tagger.train import TrainingError, label_list

pytestmark = pytest.mark.unit

CONLL = FIXTURES / "conll2003_mini.txt"
JSONL = FIXTURES / "mini.jsonl"


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8", newline="")
    return path


# --- readers ---------------------------------------------------------------------------


def test_data_conll2003_shaped_file_reads_as_iob2() -> None:
    ds = read_file(CONLL)
    r = ds.report
    assert (r.format, r.separator, r.columns, r.label_column) == ("conll", "whitespace", 4, 3)
    assert r.scheme == "IOB1"
    assert (r.sentences, r.documents, r.longest_sentence) == (4, 2, 9)
    assert r.words == 9 + 2 + 2 + 8
    assert r.labels == {"MISC": 2, "ORG": 2, "LOC": 3, "PER": 1}
    assert r.file == "conll2003_mini.txt"
    first = ds.sentences[0]
    assert first.words[:3] == ["EU", "rejects", "German"]
    assert first.tags == ["B-ORG", "O", "B-MISC", "O", "O", "O", "B-MISC", "O", "O"]
    assert first.line == 3 and first.doc == 1
    # IOB1 B- between two adjacent entities of one type keeps them apart
    assert ds.sentences[3].tags[:2] == ["B-LOC", "B-LOC"]
    assert ds.sentences[2].doc == 2
    assert all("-DOCSTART-" not in s.words for s in ds.sentences)
    assert ds.tag_set[0] == "O"


def test_data_label_column_pos_gives_plain() -> None:
    ds = read_file(CONLL, label_column=1)
    assert ds.report.scheme == "plain"
    assert ds.report.label_column == 1
    assert ds.sentences[0].tags[:3] == ["NNP", "VBZ", "JJ"]
    assert ds.report.labels["NNP"] == 8  # plain labels count words
    assert label_list(ds.sentences)[:2] == [".", "CC"]


def test_data_label_column_chunk_gives_iob1() -> None:
    ds = read_file(CONLL, label_column=2)
    assert ds.report.scheme == "IOB1"
    assert ds.sentences[0].tags[:3] == ["B-NP", "B-VP", "B-NP"]
    assert ds.sentences[3].tags[:2] == ["B-NP", "B-NP"]


@pytest.mark.parametrize("column", [0, 4, -5])
def test_data_label_column_out_of_range(column: int) -> None:
    with pytest.raises(DataError, match="label column .* does not exist"):
        read_file(CONLL, label_column=column)


@pytest.mark.parametrize("ncols", [2, 3, 5])
def test_data_tab_separated_columns(tmp_path: Path, ncols: int) -> None:
    rows = [("New York", "B-LOC"), ("is", "O"), ("big", "O")]
    text = "".join("\t".join([w] + [f"x{i}" for i in range(ncols - 2)] + [t]) + "\n" for w, t in rows)
    ds = read_file(write(tmp_path, "t.tsv", text))
    assert (ds.report.separator, ds.report.columns, ds.report.label_column) == ("tab", ncols, ncols - 1)
    assert ds.sentences[0].words == ["New York", "is", "big"]  # spaces inside a tab field stay
    assert ds.sentences[0].tags == ["B-LOC", "O", "O"]


def test_data_crlf_and_bom_read_like_plain_lines(tmp_path: Path) -> None:
    plain = CONLL.read_text(encoding="utf-8")
    crlf = write(tmp_path, "crlf.txt", b"\xef\xbb\xbf" + plain.replace("\n", "\r\n").encode())
    cr = write(tmp_path, "cr.txt", plain.replace("\n", "\r").encode())
    want = read_file(CONLL)
    for path in (crlf, cr):
        got = read_file(path)
        assert [(s.words, s.tags, s.line) for s in got.sentences] == [(s.words, s.tags, s.line) for s in want.sentences]
        assert got.report.warnings == want.report.warnings
        assert got.report.documents == 2


def test_data_bom_on_tab_and_jsonl(tmp_path: Path) -> None:
    tsv = read_file(write(tmp_path, "b.tsv", "\ufeffEU\tB-ORG\nsays\tO\n".encode()))
    assert tsv.sentences[0].words == ["EU", "says"]
    jl = read_file(write(tmp_path, "b.txt", "\ufeff".encode() + JSONL.read_bytes()))
    assert jl.report.format == "jsonl" and jl.report.sentences == 3


def test_data_docstart_only_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no sentences"):
        read_file(write(tmp_path, "d.txt", "-DOCSTART- -X- O\n\n-DOCSTART- -X- O\n"))


def test_data_jsonl_tokens_tags() -> None:
    ds = read_file(JSONL)
    r = ds.report
    assert (r.format, r.separator, r.sentences, r.words, r.scheme) == ("jsonl", "-", 3, 13, "IOB2")
    assert ds.sentences[1].words == ["John", "lives", "in", "New", "York"]
    assert ds.sentences[1].line == 3  # blank line 2 is skipped, numbering is the file's
    assert ds.sentences[2].tags == ["B-ORG", "O", "B-PER"]  # "words"/"ner_tags" aliases
    assert r.labels == {"PER": 3, "LOC": 2, "ORG": 1}


def test_data_report_fields_and_summary() -> None:
    r = read_file(CONLL).report
    d = r.to_dict()
    assert set(d) == {
        "file", "format", "separator", "columns", "label_column", "scheme", "sentences", "words",
        "documents", "labels", "repaired", "longest_sentence", "warnings",
        "label_name", "conversion", "examples", "sources", "label_choices",  # issue #12: conversion outcomes, several files
    }
    json.dumps(d)
    assert d["repaired"] == 0
    assert "labels seen only once: PER" in d["warnings"]
    text = r.summary()
    assert text.startswith("conll2003_mini.txt: 4 sentences, 21 words, 2 documents")
    assert "scheme IOB1" in text and "warning: labels seen only once" in text


# --- schemes ---------------------------------------------------------------------------

SCHEMES = [
    ("IOB1", [["I-PER", "I-PER", "O", "I-LOC", "B-LOC"]], [["B-PER", "I-PER", "O", "B-LOC", "B-LOC"]]),
    ("IOB2", [["B-PER", "I-PER", "O", "B-LOC", "B-LOC"]], [["B-PER", "I-PER", "O", "B-LOC", "B-LOC"]]),
    ("BIOES", [["B-PER", "E-PER", "O", "S-LOC", "S-LOC", "B-ORG", "I-ORG", "E-ORG"]],
     [["B-PER", "I-PER", "O", "B-LOC", "B-LOC", "B-ORG", "I-ORG", "I-ORG"]]),
    ("BILOU", [["B-PER", "L-PER", "O", "U-LOC", "U-LOC"]], [["B-PER", "I-PER", "O", "B-LOC", "B-LOC"]]),
    ("plain", [["NNP", "VBZ", "O", "."]], [["NNP", "VBZ", "O", "."]]),
    ("IOB1+IOB2", [["I-PER", "O", "B-LOC"], ["O", "I-ORG", "I-ORG"]], [["B-PER", "O", "B-LOC"], ["O", "B-ORG", "I-ORG"]]),
]


@pytest.mark.parametrize(("scheme", "tags", "iob2"), SCHEMES, ids=[s[0] for s in SCHEMES])
def test_data_scheme_detection_and_conversion(tmp_path: Path, scheme: str, tags: list, iob2: list) -> None:
    assert detect_scheme(tags) == scheme
    assert [to_iob2(t, scheme) for t in tags] == iob2
    text = "\n\n".join("\n".join(f"w{i} {t}" for i, t in enumerate(sent)) for sent in tags) + "\n"
    ds = read_file(write(tmp_path, "s.txt", text))
    assert ds.report.scheme == scheme
    assert [s.tags for s in ds.sentences] == iob2
    # converted tags keep the entities the original scheme meant
    if scheme != "plain":
        assert detect_scheme(iob2) == "IOB2"


def test_data_iob1_iob2_mixed_warns(tmp_path: Path) -> None:
    ds = read_file(write(tmp_path, "m.txt", "EU I-ORG\nsays O\n\nBonn B-LOC\nand O\nParis I-LOC\n"))
    assert ds.report.scheme == "IOB1+IOB2"
    assert any("mixed" in w for w in ds.report.warnings)
    assert [s.tags for s in ds.sentences] == [["B-ORG", "O"], ["B-LOC", "O", "B-LOC"]]


def test_data_iob2_spans_match_seqeval() -> None:
    from seqeval.metrics.sequence_labeling import get_entities

    for tags in (["B-PER", "I-PER", "O", "I-LOC", "I-LOC", "B-LOC", "I-ORG"], ["I-PER", "B-PER", "I-PER", "O"]):
        ours = [(s.label, s.start, s.end - 1) for s in iob2_spans(tags)]
        assert ours == get_entities(tags)


def test_data_scheme_error_index() -> None:
    with pytest.raises(SchemeError) as err:
        detect_scheme([["O"], ["B-PER", "NNP"]])
    assert err.value.index == (1, 1)


# --- bad input -------------------------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64)
ZIP = b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(64)

BAD = [
    # id, file name, content, expected line, expected message part
    ("empty", "e.txt", b"", None, "empty"),
    ("blank-lines", "b.txt", b"\n   \n\t\n\r\n", None, "only blank lines"),
    ("one-column", "one.txt", b"EU\nrejects\n", 1, "only one column"),
    ("one-column-later", "one2.txt", b"\n\nEU\n", 3, "only one column"),
    ("ragged", "r.txt", b"EU B-ORG\nrejects O\n\nGerman x B-MISC\n", 4, "3 columns, expected 2"),
    ("ragged-tab", "r.tsv", b"EU\tNNP\tB-ORG\nrejects\tO\n", 2, "2 columns, expected 3"),
    ("unknown-scheme", "u.txt", b"EU B-ORG\nrejects O\n\nGerman JJ\n", 4, "unknown tag scheme"),
    ("png", "image.txt", PNG, None, "PNG image"),
    ("zip", "data.conll", ZIP, None, "zip archive"),
    ("nul-bytes", "n.txt", b"EU B-ORG\x00\x00\n", None, "binary file"),
    ("prefix-no-type", "p.txt", b"EU O\n\nGerman O\ncall B-\n", 4, "no entity type"),
    ("jsonl-length", "l.jsonl", b'{"tokens": ["a"], "tags": ["O"]}\n{"tokens": ["a", "b"], "tags": ["O"]}\n', 2,
     '"tokens" has 2 items but "tags" has 1'),
    ("jsonl-invalid", "i.jsonl", b'{"tokens": ["a"], "tags": ["O"]}\n{"tokens": ["a"], "tags": [}\n', 2, "invalid JSON"),
    ("jsonl-not-object", "o.jsonl", b'["a", "O"]\n', 1, "expected an object"),
    ("jsonl-missing-keys", "k.jsonl", b'{"sentence": "a b"}\n', 1, 'expected keys "tokens" and "tags"'),
    ("jsonl-int-tags", "n.jsonl", b'{"tokens": ["a"], "tags": [0]}\n', 1, "integer ids (0) with no label names"),
    ("jsonl-empty-token", "t.jsonl", b'{"tokens": [" "], "tags": ["O"]}\n', 1, "non-empty string"),
    ("jsonl-prefix-no-type", "p.jsonl", b'{"tokens": ["a"], "tags": ["O"]}\n{"tokens": ["a"], "tags": ["I-"]}\n', 2,
     "no entity type"),
]


@pytest.mark.parametrize(("name", "content", "line", "message"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_data_bad_input_names_file_and_line(tmp_path: Path, name: str, content: bytes, line: int | None, message: str) -> None:
    path = write(tmp_path, name, content)
    with pytest.raises(DataError) as err:
        read_file(path)
    assert err.value.line == line
    assert message in err.value.detail
    prefix = f"{name}, line {line}: " if line else f"{name}: "
    assert str(err.value).startswith(prefix)
    assert "\n" not in str(err.value)
    assert str(tmp_path) not in str(err.value)  # the file's name, not the server's folders


def test_data_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not found"):
        read_file(tmp_path / "nope.txt")


def test_data_tabs_and_spaces_mixed(tmp_path: Path) -> None:
    ds = read_file(write(tmp_path, "mix.txt", "EU\tB-ORG\nrejects O\nGerman \t B-MISC\n"))
    assert ds.report.separator == "whitespace"
    assert ds.sentences[0].words == ["EU", "rejects", "German"]
    assert ds.sentences[0].tags == ["B-ORG", "O", "B-MISC"]


def test_data_latin1_reads_with_warning(tmp_path: Path) -> None:
    ds = read_file(write(tmp_path, "l1.txt", "Müller B-PER\nsagt O\nà O\n".encode("latin-1")))
    assert ds.sentences[0].words == ["Müller", "sagt", "à"]
    assert any("Latin-1" in w for w in ds.report.warnings)


def test_data_huge_file_rejected_before_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "huge.txt"
    with path.open("wb") as f:
        f.truncate(200_000_000)  # sparse: no disk used
    monkeypatch.setattr(Path, "read_bytes", lambda self: pytest.fail("read a file over the size limit"))
    with pytest.raises(DataError) as err:
        read_file(path)
    assert str(err.value) == "huge.txt: the file is 200 MB; the limit is 50 MB"


def test_data_max_bytes_argument(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="limit is"):
        read_file(CONLL, max_bytes=100)
    assert read_file(CONLL, max_bytes=10_000).report.sentences == 4


def test_data_million_sentences_hit_the_limit(tmp_path: Path) -> None:
    path = write(tmp_path, "million.txt", "w O\n\n" * 1_000_000)
    t0 = time.perf_counter()
    with pytest.raises(DataError) as err:
        read_file(path)
    assert f"more than {corpus.MAX_SENTENCES:,} sentences" in str(err.value)
    assert err.value.line == 2 * corpus.MAX_SENTENCES + 2
    assert time.perf_counter() - t0 < 60  # ~2 s on an idle core


def test_data_reader_memory_is_bounded_by_file_size(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Lines are not all held as Python objects: the peak is a small multiple of the file."""
    path = write(tmp_path, "million.txt", "w O\n\n" * 1_000_000)
    size = path.stat().st_size
    monkeypatch.setattr(corpus, "MAX_SENTENCES", 1000)
    tracemalloc.start()
    try:
        with pytest.raises(DataError, match="more than 1,000 sentences"):
            read_file(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * size, f"peak {peak / 1e6:.0f} MB for a {size / 1e6:.0f} MB file"


def test_data_jsonl_sentence_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(corpus, "MAX_SENTENCES", 3)
    path = write(tmp_path, "many.jsonl", '{"tokens": ["a"], "tags": ["B-X"]}\n' * 5)
    with pytest.raises(DataError, match="more than 3 sentences"):
        read_file(path)


def test_data_single_label_warns_and_label_list_refuses(tmp_path: Path) -> None:
    ds = read_file(write(tmp_path, "o.txt", "EU O\nsays O\n\nno O\n"))
    assert ds.report.labels == {}
    assert any("no entities" in w for w in ds.report.warnings)
    with pytest.raises(TrainingError, match="single label"):
        label_list(ds.sentences)
    plain = read_file(write(tmp_path, "nn.txt", "a NN\nb NN\n"))
    with pytest.raises(TrainingError, match="single label"):
        label_list(plain.sentences)


def test_data_labels_with_spaces_and_unicode(tmp_path: Path) -> None:
    text = "Élysée\tB-Lieu public\nà\tO\nParis\tB-Lieu public\n\n東京\tB-地名\nで\tO\nAna\tB-Personne é\n"
    ds = read_file(write(tmp_path, "u.tsv", text))
    assert ds.report.separator == "tab"
    assert ds.report.labels == {"Lieu public": 2, "地名": 1, "Personne é": 1}
    assert ds.sentences[1].words == ["東京", "で", "Ana"]
    labels = label_list(ds.sentences)
    assert labels == ["O", "B-Lieu public", "I-Lieu public", "B-Personne é", "I-Personne é", "B-地名", "I-地名"]


def test_data_dev_labels_missing_from_train() -> None:
    train = [Sentence(["a", "b"], ["B-PER", "O"])]
    dev = [Sentence(["c", "d"], ["B-LOC", "B-PER"])]
    with pytest.raises(TrainingError, match="dev data has labels the training data lacks: LOC"):
        label_list(train, dev)
    assert label_list(train, train) == ["O", "B-PER", "I-PER"]


def test_data_split_holdout() -> None:
    sents = [Sentence([f"w{i}"], ["O"]) for i in range(20)]
    train, dev = split_holdout(sents, 0.1, seed=1)
    assert len(dev) == 2 and len(train) == 18
    assert {id(s) for s in train} | {id(s) for s in dev} == {id(s) for s in sents}
    assert split_holdout(sents, 0.1, seed=1)[1] == dev
    assert len(split_holdout(sents[:2], 0.1, seed=1)[1]) == 1
    with pytest.raises(DataError, match="at least 2 sentences"):
        split_holdout(sents[:1], 0.1, seed=1)


def test_data_long_sentence_reads_trains_and_predicts(tmp_path: Path, tiny_base: Path) -> None:
    from tagger.config import TrainConfig
    from tagger.model import load_tagger
    from tagger.predict import Predictor
    from tagger.train import train

    words = [("Paris" if i % 7 == 0 else f"word{i % 50}") for i in range(2000)]
    tags = ["B-LOC" if w == "Paris" else "O" for w in words]
    path = write(tmp_path, "long.txt", "".join(f"{w} {t}\n" for w, t in zip(words, tags)) + "\nshort O\nParis B-LOC\n")
    ds = read_file(path)
    assert ds.report.longest_sentence == 2000
    cfg = TrainConfig(base=str(tiny_base), head="linear", epochs=1, batch_size=8, max_length=64, lr=1e-3)
    result = train(cfg, ds.sentences, ds.sentences[1:], tmp_path / "model")
    pred = Predictor(load_tagger(result.out_dir), max_length=64).tag_words([words])
    assert len(pred[0]) == 2000
    assert all(label in ("O", "B-LOC", "I-LOC") for label, _ in pred[0])


# --- the shared corpora ----------------------------------------------------------------


@needs_shared("conll2003/eng.train", "conll2003/eng.testa", "conll2003/eng.testb")
@pytest.mark.parametrize(("name", "sentences"), [("eng.train", 14_041), ("eng.testa", 3_250), ("eng.testb", 3_453)])
def test_data_shared_conll2003(name: str, sentences: int) -> None:
    r = read_file(SHARED_DATA / "conll2003" / name).report
    assert r.sentences == sentences
    assert (r.separator, r.columns, r.label_column) == ("whitespace", 4, 3)
    assert r.scheme in ("IOB1", "IOB1+IOB2")  # eng.train has two stray B-MISC after O
    assert set(r.labels) == {"PER", "LOC", "ORG", "MISC"}
    assert r.documents > 200


@needs_shared("conll2003/eng.testb")
def test_data_shared_conll2003_pos_and_chunk_columns() -> None:
    pos = read_file(SHARED_DATA / "conll2003" / "eng.testb", label_column=1)
    assert pos.report.scheme == "plain" and "NNP" in pos.report.labels
    chunk = read_file(SHARED_DATA / "conll2003" / "eng.testb", label_column=2)
    assert chunk.report.scheme == "IOB1" and {"NP", "VP"} <= set(chunk.report.labels)


@needs_shared("re3d/re3d-train.conll", "re3d/re3d-test.conll")
def test_data_shared_re3d() -> None:
    train = read_file(SHARED_DATA / "re3d" / "re3d-train.conll").report
    test = read_file(SHARED_DATA / "re3d" / "re3d-test.conll").report
    assert (train.separator, train.columns, train.scheme) == ("tab", 2, "IOB2")
    assert len(train.labels) == 10
    assert set(test.labels) <= set(train.labels)
    assert 700 < train.sentences < 900 and 150 < test.sentences < 250


@needs_shared("sec-filings/FIN5.txt", "sec-filings/FIN3.txt")
def test_data_shared_sec_filings() -> None:
    train = read_file(SHARED_DATA / "sec-filings" / "FIN5.txt").report
    test = read_file(SHARED_DATA / "sec-filings" / "FIN3.txt").report
    assert train.scheme == test.scheme == "IOB1"
    assert 1000 < train.sentences < 1300 and 250 < test.sentences < 350
    assert set(train.labels) == {"PER", "LOC", "ORG", "MISC"}
