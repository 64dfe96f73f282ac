"""Tagging whole files (tagger.bulk): the labels ``evaluate`` scores on CoNLL, spans that read back as
training data, every output format, the threshold, cancel / errors / Ctrl-C leaving nothing behind,
the bad-input matrix, the ONNX hand-over, and memory that does not grow with the file."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from support import DEFAULT_MODEL, FIXTURES, REPO, SHARED_DATA, needs_default, needs_shared, two_sentences_conll

from tagger import bulk
from tagger.data import read_file
from tagger.errors import DataError, InputError
from tagger.evaluation import evaluate
from tagger.inputs import Documents
from tagger.metrics import score
from tagger.outputs import JsonlWriter
from tagger.predict import Predictor

SENTENCES = [
    "Angela Merkel met Emmanuel Macron in Paris on Tuesday.",
    "John Smith works for the United Nations in New York.",
    "The European Union rejected the German proposal.",
    "Nothing to see here.",
    "Barack Obama visited Berlin and Munich. He met Olaf Scholz.",
    "",
    "Apple and Microsoft are based in California.",
]


@pytest.fixture(scope="module")
def tiny(tiny_tagger: Path) -> Predictor:
    return Predictor.from_dir(tiny_tagger, device="cpu")


@pytest.fixture(scope="module")
def default() -> Predictor:
    return Predictor.from_dir(DEFAULT_MODEL, device="cpu")


def write_jsonl(path: Path, texts: list[str]) -> Path:
    path.write_text("".join(json.dumps({"id": f"r{i}", "text": t, "source": "news"}) + "\n" for i, t in enumerate(texts)), encoding="utf-8")
    return path


def conll_matches_gold(gold_path: Path, out: Path, predictor: Predictor) -> tuple[float, float]:
    """(F1 of the .conll output against the gold file, F1 of ``evaluate`` on it); same lines, blanks in place."""
    gold_lines, out_lines = gold_path.read_text().splitlines(), out.read_text().splitlines()
    assert len(out_lines) == len(gold_lines)
    assert [i for i, ln in enumerate(out_lines) if not ln.strip()] == [i for i, ln in enumerate(gold_lines) if not ln.strip()]
    gold = read_file(gold_path).sentences
    pred = read_file(out).sentences
    assert [s.words for s in pred] == [s.words for s in gold]
    return score([s.tags for s in gold], [s.tags for s in pred])["f1"], evaluate(predictor, gold).scores["f1"]


def test_bulk_raw_text_equals_predict_batch(tiny: Predictor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    long = "\n\n".join(["Angela Merkel visited Paris today . John lives in Berlin now"] * 6)
    texts = [*SENTENCES, long]
    docs = list(Documents(write_jsonl(tmp_path / "in.jsonl", texts)))
    expected = tiny.predict_batch(texts)
    monkeypatch.setattr(bulk, "CHUNK_CHARS", 130)  # the long text goes in pieces, cut at blank lines
    for (tagged, dropped), pred in zip(bulk.tag_batch(tiny, docs), expected):
        assert dropped == 0 and tagged.text == pred.text
        assert [(t.text, t.start, t.end, t.score) for s in tagged.sentences for t in s] == [(w.text, w.start, w.end, w.score) for w in pred.words]
        assert [(e.start, e.end, e.label, e.score, e.text) for e in tagged.entities] == [
            (e.start, e.end, e.label, e.score, e.text) for e in pred.entities]
    assert any(t.entities for t, _ in bulk.tag_batch(tiny, docs))


def test_bulk_conll_gives_the_labels_evaluate_scores(tiny: Predictor, tmp_path: Path) -> None:
    gold = tmp_path / "two.conll"
    gold.write_text("-DOCSTART- O\n\n" + two_sentences_conll() + "\n", encoding="utf-8")
    summary = bulk.tag_file(tiny, gold, tmp_path / "x.conll")
    assert (summary.documents, summary.sentences, summary.words, summary.input_format) == (1, 2, 11, "conll")
    f_file, f_eval = conll_matches_gold(gold, tmp_path / "x.conll", tiny)
    assert f_file == pytest.approx(f_eval, abs=0.05) and f_file == 100.0  # the tiny tagger is overfit on these two


@needs_default
def test_bulk_conll_fixture_f1_equals_evaluate_default(default: Predictor, tmp_path: Path) -> None:
    gold = FIXTURES / "conll2003_mini.txt"
    bulk.tag_file(default, gold, tmp_path / "x.conll")
    f_file, f_eval = conll_matches_gold(gold, tmp_path / "x.conll", default)
    assert f_file == pytest.approx(f_eval, abs=0.05)


@needs_default
@needs_shared("conll2003/eng.testb")
def test_bulk_conll2003_test_f1_equals_evaluate(default: Predictor, tmp_path: Path) -> None:
    lines = (SHARED_DATA / "conll2003" / "eng.testb").read_text().splitlines()
    blanks = [i for i, ln in enumerate(lines) if not ln.strip()]
    gold = tmp_path / "testb300.conll"
    gold.write_text("\n".join(lines[: blanks[300] + 1]) + "\n")  # the first ~300 sentences, documents included
    summary = bulk.tag_file(default, gold, tmp_path / "x.conll")
    assert summary.sentences >= 280
    f_file, f_eval = conll_matches_gold(gold, tmp_path / "x.conll", default)
    assert f_file == pytest.approx(f_eval, abs=0.05) and f_file > 85


@needs_default
@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the Label Studio SDK's pydantic-v1-style validators, at import
def test_bulk_jsonl_of_raw_sentences_in_every_format(default: Predictor, tmp_path: Path) -> None:
    from label_studio_sdk.label_interface import LabelInterface
    from spacy.tokens import DocBin

    from tagger.outputs import label_studio_config
    from tagger.words import _spacy_pipeline

    src = write_jsonl(tmp_path / "in.jsonl", SENTENCES)
    for ext in ("jsonl", "csv", "spacy", "json", "conll"):
        bulk.tag_file(default, src, tmp_path / f"out.{ext}", model_version="default")
    records = [json.loads(ln) for ln in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [(r["id"], r["source"], r["text"]) for r in records] == [(f"r{i}", "news", t) for i, t in enumerate(SENTENCES)]
    spans = [s for r in records for s in r["spans"]]
    assert len(spans) >= 12 and {s["label"] for s in spans} >= {"PER", "LOC", "ORG"}
    for r in records:
        for s in r["spans"]:
            assert r["text"][s["start"] : s["end"]] == s["text"] == s["text"].strip() and 0 < s["score"] <= 1
    # read back as training data (the project's span reader): the same words and tags, nothing snapped or dropped
    back = read_file(tmp_path / "out.jsonl")
    tagged = [t for t, _ in bulk.tag_batch(default, list(Documents(src)))]
    for line, t in enumerate(tagged, 1):
        sents = [s for s in back.sentences if s.line == line]
        assert [w for s in sents for w in s.words] == [tok.text for s in t.sentences for tok in s]
        assert [g for s in sents for g in s.tags] == [tok.tag for s in t.sentences for tok in s]
    assert back.report.conversion.get("spans: kept") == len(spans) and back.report.labels == {
        k: sum(s["label"] == k for s in spans) for k in {s["label"] for s in spans}}
    docs = list(DocBin().from_disk(tmp_path / "out.spacy").get_docs(_spacy_pipeline("en").vocab))
    assert [d.text for d in docs] == SENTENCES and sum(len(d.ents) for d in docs) == len(spans)
    rows = list(csv.DictReader((tmp_path / "out.csv").open(encoding="utf-8")))
    assert len(rows) == len(spans) and [r["text"] for r in rows] == [s["text"] for s in spans]
    config = LabelInterface(label_studio_config(default.labels))
    tasks = json.loads((tmp_path / "out.json").read_text())
    assert len(tasks) == len(SENTENCES) and tasks[0]["data"]["source"] == "news"
    assert all(config.validate_prediction(t["predictions"][0], return_errors=True) == [] for t in tasks)
    assert sum(len(t["predictions"][0]["result"]) for t in tasks) == len(spans)


@needs_default
def test_bulk_threshold_drops_low_scores(default: Predictor, tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "in.jsonl", SENTENCES)
    all_ = bulk.tag_file(default, src, tmp_path / "all.jsonl")
    scores = sorted(s["score"] for ln in (tmp_path / "all.jsonl").read_text().splitlines() for s in json.loads(ln)["spans"])
    m = next(k for k in range(len(scores) // 2, len(scores)) if scores[k] - scores[k - 1] > 2e-4)
    cut = (scores[m - 1] + scores[m]) / 2  # between two scores (the file's are rounded to 4 decimals)
    some = bulk.tag_file(default, src, tmp_path / "some.conll", threshold=cut)
    assert some.entities == len(scores) - m and some.entities + some.dropped == all_.entities
    assert 0 < some.dropped < all_.entities
    kept = read_file(tmp_path / "some.conll").report.labels
    assert sum(kept.values()) == some.entities  # dropped entities' words are O in CoNLL
    for bad in (-0.1, 1.01, float("nan"), "high"):
        with pytest.raises(InputError, match="threshold must be a number from 0 to 1"):
            bulk.tag_file(default, src, tmp_path / "bad.jsonl", threshold=bad)  # type: ignore[arg-type]
    assert not (tmp_path / "bad.jsonl").exists()


def many(tmp_path: Path, n: int = 120) -> Path:
    return write_jsonl(tmp_path / "many.jsonl", [f"Angela Merkel visited Paris today . Doc {i}" for i in range(n)])


def test_bulk_cancel_mid_file_leaves_nothing(tiny: Predictor, tmp_path: Path) -> None:
    src = many(tmp_path)
    out = tmp_path / "out.jsonl"
    out.write_text("older\n")
    calls: list[int] = []
    progress: list[tuple[int, int, int, int]] = []

    def stop() -> bool:
        calls.append(1)
        return len(calls) == 4

    with pytest.raises(bulk.TaggingCancelled, match="tagging cancelled; no output was written"):
        bulk.tag_file(tiny, src, out, batch_size=40, should_stop=stop, on_progress=lambda *a: progress.append(a))
    assert len(progress) == 3 and progress[-1][0] > 0 and 0 < progress[-1][2] < progress[-1][3] == src.stat().st_size
    assert out.read_text() == "older\n" and sorted(p.name for p in tmp_path.iterdir()) == ["many.jsonl", "out.jsonl"]


@pytest.mark.parametrize("error", [OSError("disk full"), KeyboardInterrupt()])
def test_bulk_writer_error_or_ctrl_c_leaves_nothing(tiny: Predictor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   error: BaseException) -> None:
    src = many(tmp_path)
    written = JsonlWriter.write

    def failing(self: JsonlWriter, item: object) -> None:
        if self.count == 50:
            raise error
        written(self, item)  # type: ignore[arg-type]

    monkeypatch.setattr(JsonlWriter, "write", failing)
    with pytest.raises(type(error)):
        bulk.tag_file(tiny, src, tmp_path / "out.jsonl", batch_size=40)
    assert [p.name for p in tmp_path.iterdir()] == ["many.jsonl"]


BAD = {
    "empty": ("empty.jsonl", b"", {}, DataError, r"empty.jsonl: the file is empty; expected plain text, JSON lines"),
    "missing-field": ("a.jsonl", b'{"body": "x", "id": 1}\n', {}, DataError,
                      r'a.jsonl, line 1: no "text" field; the record has "body", "id" \(choose the text field'),
    "missing-column": ("a.csv", b"id,body\n1,x\n", {"text_column": "content"}, DataError,
                       r'a.csv, line 1: no "content" column; the header has "id", "body"'),
    "binary": ("a.txt", b"\x00\x01\x02\x03 data", {}, DataError, r"a.txt: this is a binary file \(NUL bytes\)"),
    "too-big": ("a.txt", b"Paris " * 400_000, {"max_bytes": 1_000_000}, DataError,
                r"a.txt: the file is 2.4 MB, over the limit of 1.0 MB; raise the limit \(--max-mb on the command line, max_bytes="),
    "threshold": ("a.txt", b"Paris", {"threshold": 2}, InputError, r"threshold must be a number from 0 to 1"),
    "output-format": ("a.txt", b"Paris", {"output": "out.xml"}, DataError, r"out.xml: unknown output format \(extension '.xml'\)"),
    "to": ("a.txt", b"Paris", {"to": "yaml"}, DataError, r"unknown output format 'yaml'; expected one of: jsonl, csv"),
    "same-file": ("a.jsonl", b'{"text": "Paris"}\n', {"output": "a.jsonl"}, DataError, r"a.jsonl: the output would replace the input"),
    "bad-json-late": ("a.jsonl", b'{"text": "Paris"}\n' * 300 + b"{oops\n", {"batch_size": 50}, DataError,
                      r"a.jsonl, line 301: invalid JSON"),
}


@pytest.mark.parametrize(("name", "content", "options", "kind", "message"), list(BAD.values()), ids=list(BAD))
def test_bulk_bad_input_is_a_specific_error_and_no_output(tiny: Predictor, tmp_path: Path, name: str, content: bytes,
                                                         options: dict, kind: type, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    out = tmp_path / options.pop("output", "out.jsonl")
    with pytest.raises(kind, match=message):
        bulk.tag_file(tiny, path, out, **options)
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


def test_bulk_preview_and_first_results(tiny: Predictor, tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "in.jsonl", ["Angela Merkel visited Paris today .", "x" * 500, "John lives in Berlin now"])
    rows = bulk.preview(src, 2, chars=40)
    assert [(r["id"], r["where"], r["sentences"], r["fields"]) for r in rows] == [
        ("r0", "in.jsonl, line 1", None, {"id": "r0", "source": "news"}), ("r1", "in.jsonl, line 2", None, {"id": "r1", "source": "news"})]
    assert len(rows[1]["text"]) == 40 and rows[1]["text"].endswith("…")
    conll = tmp_path / "x.conll"
    conll.write_text(two_sentences_conll())
    assert bulk.preview(conll)[0]["sentences"] == 2
    first = bulk.first_results(tiny, src, 1)
    assert len(first) == 1 and [(s["text"], s["label"]) for s in first[0]["spans"]] == [("Angela Merkel", "PER"), ("Paris", "LOC")]


def test_bulk_auto_backend_hands_over_to_onnx(tiny: Predictor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TAGGER_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(bulk, "AUTO_MIN_BYTES", 0)
    monkeypatch.setattr(bulk, "_threads", lambda: 2)  # the tests run torch on one thread, where auto keeps torch
    src = many(tmp_path, 60)
    kept = bulk.tag_file(tiny, src, tmp_path / "torch.jsonl", backend="keep", batch_size=100)
    auto = bulk.tag_file(tiny, src, tmp_path / "auto.jsonl", batch_size=100)
    assert (kept.backend, auto.backend) == ("torch", "onnx")
    spans = [[(s["start"], s["end"], s["label"]) for s in json.loads(ln)["spans"]] for ln in (tmp_path / "torch.jsonl").open()]
    assert spans == [[(s["start"], s["end"], s["label"]) for s in json.loads(ln)["spans"]] for ln in (tmp_path / "auto.jsonl").open()]
    small = bulk.tag_file(tiny, src, tmp_path / "small.jsonl", batch_size=100_000)  # one batch: nothing to hand over
    assert small.backend == "torch"
    monkeypatch.setattr(bulk, "_threads", lambda: 1)
    assert bulk.tag_file(tiny, src, tmp_path / "one.jsonl", batch_size=100).backend == "torch"


MEMORY_SCRIPT = textwrap.dedent("""
    import json, resource, sys
    import torch
    torch.set_num_threads(1)
    from tagger.bulk import tag_file
    from tagger.predict import Predictor
    model, src, warm, out = sys.argv[1:5]
    p = Predictor.from_dir(model, device="cpu")
    tag_file(p, warm, out, backend="keep")  # spaCy, the word-piece cache, batch buffers: allocated once
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    s = tag_file(p, src, out, backend="keep")
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"growth_mb": (after - before) / 1024, "documents": s.documents, "words": s.words}))
""")


@pytest.mark.slow
def test_bulk_memory_does_not_grow_with_the_file(tiny_tagger: Path, tmp_path: Path) -> None:
    """A ~50 MB JSONL (records with a 2 KB field each, as exports carry metadata) tagged in a fresh
    process: its peak RSS grows by a small fraction of the file's size."""
    words = ["Angela", "Merkel", "visited", "Paris", "and", "met", "John", "in", "Berlin", "on", "Tuesday", "with", "the", "European"]
    payload = "m" * 2000
    src, warm = tmp_path / "big.jsonl", tmp_path / "warm.jsonl"
    with src.open("w") as f:
        i = 0
        while f.tell() < 50_000_000:
            text = " ".join(words[(i + k) % len(words)] for k in range(20)) + "."
            f.write(json.dumps({"id": i, "text": text, "meta": payload}) + "\n")
            i += 1
    with src.open() as f:
        warm.write_text(f.readline() * 2000)
    proc = subprocess.run([sys.executable, "-c", MEMORY_SCRIPT, str(tiny_tagger), str(src), str(warm), str(tmp_path / "out.jsonl")],
                          cwd=REPO, capture_output=True, text=True, timeout=1200, env={"PYTHONPATH": str(REPO), "PATH": ""}, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    size_mb = src.stat().st_size / 1e6
    assert result["documents"] == i and (tmp_path / "out.jsonl").stat().st_size > src.stat().st_size
    assert result["growth_mb"] < 0.2 * size_mb, result  # far below the file size: nothing accumulates
