"""demo.service.tagging (batching, serving, file_jobs), with no Gradio: the micro-batcher (answers equal tagging alone), the serving
backend check (ONNX Runtime only where it gives torch's labels; torch when it fails or disagrees), one
pass writing every output format (the same files as tagger.bulk.tag_file writes one by one), and file
jobs (limits, cancel, owners; no output left behind)."""

from __future__ import annotations

import csv
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from support import two_sentences_conll, wait_for

from demo.service import file_jobs as tagging
from demo.service.batching import Batcher
from demo.service.file_jobs import FileJobs, FileOptions, FileRefused, Limits, tag_to_outputs
from demo.service.serving import Serving, choose_backend
from tagger.bulk import TaggingCancelled, tag_file
from tagger.errors import DataError, InputError
from tagger.meta import MAX_TEXT_CHARS
from tagger.outputs import OUTPUT_FORMATS

pytestmark = pytest.mark.app
TEXTS = ["Angela Merkel visited Paris today.", "John lives in Berlin now.", "Angela Merkel lives in Berlin.", "John visited Paris.",
         "Paris .", "today John visited Angela Merkel in Paris and Berlin ."]


@pytest.fixture(scope="module")
def predictor(tiny_tagger: Path):
    from tagger.predict import Predictor

    return Predictor.from_dir(tiny_tagger, device="cpu")


def jsonl_file(path: Path, n: int) -> Path:
    with path.open("w", encoding="utf-8") as f:
        for i in range(n):
            f.write(json.dumps({"id": f"r{i}", "text": " ".join(TEXTS[(i + k) % len(TEXTS)] for k in range(1 + i % 3)), "lang": "en"}) + "\n")
    return path


class Slow:
    """A predictor whose model calls take ``delay`` seconds more (a long job on a tiny model)."""

    def __init__(self, predictor: Any, delay: float) -> None:
        self.predictor, self.delay, self.calls = predictor, delay, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.predictor, name)

    def tag_words(self, sentences: Any, docs: Any = None) -> Any:
        self.calls += 1
        time.sleep(self.delay)
        return self.predictor.tag_words(sentences, docs)


# ------------------------------------------------------------------------------------ batching
def test_service_tagging_batched_answers_equal_tagging_alone(predictor) -> None:
    batcher = Batcher(max_batch=8, wait_s=0.05)
    texts = [TEXTS[i % len(TEXTS)] + f" John {i} visited Paris." * (i % 4) for i in range(24)]
    gate = threading.Barrier(len(texts))

    def one(text: str) -> Any:
        gate.wait()
        return batcher.predict(predictor, text)

    with ThreadPoolExecutor(len(texts)) as pool:
        batched = list(pool.map(one, texts))
    batcher.close()
    assert max(batcher.sizes) > 1 and sum(k * v for k, v in batcher.sizes.items()) == len(texts)  # really batched
    for text, got in zip(texts, batched, strict=True):
        alone = predictor.predict(text)
        assert got.text == text and [(w.start, w.end, w.label) for w in got.words] == [(w.start, w.end, w.label) for w in alone.words]
        assert [w.score for w in got.words] == pytest.approx([w.score for w in alone.words], abs=1e-5)
        assert [(e.start, e.end, e.label) for e in got.entities] == [(e.start, e.end, e.label) for e in alone.entities]


def test_service_tagging_a_bad_text_fails_alone_in_its_batch(predictor) -> None:
    batcher = Batcher(max_batch=4, wait_s=0.2)
    texts = [TEXTS[0], "x " * (MAX_TEXT_CHARS // 2 + 1), TEXTS[1]]
    with ThreadPoolExecutor(3) as pool:
        futures = [pool.submit(batcher.predict, predictor, t) for t in texts]
        assert futures[0].result().entities and futures[2].result().entities
        with pytest.raises(InputError, match=f"limit is {MAX_TEXT_CHARS:,}"):
            futures[1].result()
    batcher.close()
    assert Batcher(0, 0.01).predict(predictor, TEXTS[0]).entities  # off: tagged in the caller's thread


def test_service_tagging_auto_batching_tags_cpu_requests_alone_two_at_a_time(predictor) -> None:
    """TAGGER_TAG_BATCH=auto on the CPU: no batches (they would cost as much per text, and wait), at most
    two requests in the model at once, the rest wait their turn."""
    batcher = Batcher(max_batch=16, wait_s=0.01, cpu=False)
    assert not batcher.batches(predictor)
    inside, most = 0, 0
    lock = threading.Lock()

    class Counting:
        def predict(self, text: str) -> Any:
            nonlocal inside, most
            with lock:
                inside += 1
                most = max(most, inside)
            time.sleep(0.05)
            with lock:
                inside -= 1
            return predictor.predict(text)

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda t: batcher.predict(Counting(), t), TEXTS))
    assert most == 2 and batcher.sizes == {} and [a.text for a in answers] == TEXTS


# ------------------------------------------------------------------------------------ backends
def test_service_tagging_backend_choice_checks_labels_and_falls_back(predictor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TAGGER_CACHE", str(tmp_path / "cache"))
    same, choice = choose_backend(predictor, "torch")
    assert same is predictor and choice.backend == "torch"
    chosen, choice = choose_backend(predictor, "onnx")
    assert choice.backend == "onnx" and type(chosen.model).__name__ == "OnnxModel"
    assert choice.words > 100 and choice.same == choice.words and choice.torch_ms and choice.onnx_ms
    _, auto = choose_backend(predictor, "auto")  # ONNX Runtime only if faster on this machine now
    assert auto.backend == ("onnx" if auto.onnx_ms < auto.torch_ms else "torch") and auto.same == auto.words

    from tagger import predict as predict_module

    real = predict_module.Predictor

    class Broken(real):  # type: ignore[misc,valid-type]
        def __init__(self, *args: Any, backend: str = "torch", **kwargs: Any) -> None:
            if backend == "onnx":
                raise ImportError("no onnxruntime here")
            super().__init__(*args, backend=backend, **kwargs)

    monkeypatch.setattr(predict_module, "Predictor", Broken)
    kept, choice = choose_backend(predictor, "onnx")
    assert kept is predictor and choice.backend == "torch" and "no onnxruntime here" in choice.reason
    monkeypatch.setattr(predict_module, "Predictor", real)

    class Wrong:  # an ONNX Runtime copy that disagrees on one word
        def __init__(self, inner: Any) -> None:
            self.inner = inner

        def predict(self, text: str) -> Any:
            import dataclasses

            pred = self.inner.predict(text)
            return dataclasses.replace(pred, words=(dataclasses.replace(pred.words[0], label="B-ORG"), *pred.words[1:]))

    monkeypatch.setattr(predict_module, "Predictor", lambda *a, **k: Wrong(real(*a, **k)))
    kept, choice = choose_backend(predictor, "onnx")
    assert kept is predictor and choice.backend == "torch" and "another label on" in choice.reason


def test_service_tagging_serving_decides_in_the_background(predictor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TAGGER_CACHE", str(tmp_path / "cache"))
    serving = Serving("onnx")
    assert serving.predictor(predictor, "tiny") is predictor  # torch while the check runs
    choice = serving.settle(predictor, "tiny", timeout=300)
    assert choice is not None and choice.backend == "onnx" and serving.choices["tiny"] == choice
    assert serving.backend(predictor) == "onnx" and serving.predictor(predictor, "tiny") is not predictor
    assert Serving("torch").predictor(predictor) is predictor and Serving("torch").settle(predictor) is None


# ------------------------------------------------------------------------------------ one pass, every format
def read_outputs(outputs: dict[str, Path]) -> dict[str, Any]:
    """Each output, read back in a comparable form (scores kept to compare with a tolerance)."""
    from spacy.tokens import DocBin

    from tagger.words import _spacy_pipeline

    docs = list(DocBin().from_disk(outputs["spacy"]).get_docs(_spacy_pipeline("en").vocab))
    return {
        "jsonl": [json.loads(line) for line in outputs["jsonl"].read_text(encoding="utf-8").splitlines()],
        "csv": list(csv.reader(outputs["csv"].open(encoding="utf-8"))),
        "conll": outputs["conll"].read_text(encoding="utf-8").splitlines(),
        "spacy": [(d.text, [(e.start_char, e.end_char, e.label_) for e in d.ents]) for d in docs],
        "json": json.loads(outputs["json"].read_text(encoding="utf-8")),
    }


def assert_same_outputs(a: dict[str, Any], b: dict[str, Any]) -> None:
    def spans(recs: list[dict]) -> list:
        return [[(s["start"], s["end"], s["label"], s["text"]) for s in r["spans"]] for r in recs]

    assert spans(a["jsonl"]) == spans(b["jsonl"])
    assert [{k: v for k, v in r.items() if k != "spans"} for r in a["jsonl"]] == [{k: v for k, v in r.items() if k != "spans"} for r in b["jsonl"]]
    assert [r[:5] for r in a["csv"]] == [r[:5] for r in b["csv"]]
    assert a["conll"] == b["conll"] and a["spacy"] == b["spacy"]
    strip = [[(x["value"]["start"], x["value"]["end"], x["value"]["labels"]) for x in t["predictions"][0]["result"]] for t in a["json"]]
    assert strip == [[(x["value"]["start"], x["value"]["end"], x["value"]["labels"]) for x in t["predictions"][0]["result"]] for t in b["json"]]


@pytest.mark.parametrize("threshold", [0.0, 0.9])
def test_service_tagging_one_pass_writes_what_tag_file_writes_per_format(predictor, tmp_path: Path, threshold: float) -> None:
    source = jsonl_file(tmp_path / "in.jsonl", 40)
    mine = {fmt: tmp_path / "mine" / f"out{ext}" for fmt, ext in OUTPUT_FORMATS.items()}
    calls: list[tuple[int, float]] = []
    result = tag_to_outputs(Slow(predictor, 0.0), source, mine, threshold=threshold, on_progress=lambda d, w: calls.append((d, w)))
    theirs = {fmt: tmp_path / "lib" / f"out{ext}" for fmt, ext in OUTPUT_FORMATS.items()}
    for path in theirs.values():
        tag_file(predictor, source, path, threshold=threshold, backend="keep")
    assert_same_outputs(read_outputs(mine), read_outputs(theirs))
    assert result.documents == 40 and len(result.first) == tagging.FIRST_RESULTS and result.first[0]["id"] == "r0"
    assert (result.dropped > 0) == (threshold > 0) and calls[-1][0] == 40
    assert calls == sorted(calls) and calls[-1][1] == sum(len(json.loads(x)["text"].split()) for x in source.read_text().splitlines())


def test_service_tagging_conll_input_comes_back_line_for_line(predictor, tmp_path: Path) -> None:
    source = tmp_path / "in.conll"
    source.write_text("-DOCSTART- -X- O O\n\n" + two_sentences_conll(), encoding="utf-8")
    out = tmp_path / "out.conll"
    tag_to_outputs(predictor, source, {"conll": out})
    lines, given = out.read_text(encoding="utf-8").splitlines(), source.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(given) and [ln.split("\t")[0] for ln in lines if ln] == [g.split()[0] for g in given if g]
    assert "Angela\tB-PER" in lines and "Paris\tB-LOC" in lines


def test_service_tagging_cancel_leaves_no_output(predictor, tmp_path: Path) -> None:
    source = jsonl_file(tmp_path / "in.jsonl", 200)
    outputs = {fmt: tmp_path / "out" / f"x{ext}" for fmt, ext in OUTPUT_FORMATS.items()}
    slow = Slow(predictor, 0.05)
    with pytest.raises(TaggingCancelled):
        tag_to_outputs(slow, source, outputs, should_stop=lambda: slow.calls >= 2)
    assert slow.calls == 2 and list((tmp_path / "out").iterdir()) == []  # no output, no temporary file


# ------------------------------------------------------------------------------------ jobs
@pytest.fixture
def jobs(tmp_path: Path):
    queue = FileJobs(Limits(max_bytes=200_000, max_docs=500), max_waiting=1, root=tmp_path)
    yield queue
    queue.close()


def test_service_tagging_job_runs_to_every_format_for_its_owner(jobs: FileJobs, predictor, tmp_path: Path) -> None:
    job = jobs.submit("alice", predictor, jsonl_file(tmp_path / "notes.jsonl", 30), model="tiny", threshold=0.5)
    assert job.ended_event.wait(120) and job.state == tagging.DONE, job.error
    snap = jobs.snapshot(job)
    assert snap["progress"] == 1.0 and snap["documents_total"] == 30 and snap["summary"]["documents"] == 30
    assert sorted(snap["outputs"]) == sorted(OUTPUT_FORMATS) and all(Path(p).is_file() for p in snap["outputs"].values())
    assert Path(snap["outputs"]["json"]).name == "notes-tagged.label-studio.json" and not (job.folder / "in").exists()
    assert jobs.latest("alice") is job and jobs.latest("bob") is None and jobs.latest(None) is None
    with pytest.raises(FileRefused, match="No file job"):
        jobs.get(job.id, "bob")
    assert jobs.cancel("bob") == "No file of yours is being tagged."


def test_service_tagging_job_cancel_stops_soon_and_leaves_nothing(jobs: FileJobs, predictor, tmp_path: Path) -> None:
    slow = Slow(predictor, 0.1)
    job = jobs.submit("alice", slow, jsonl_file(tmp_path / "in.jsonl", 400), model="tiny", formats=["jsonl", "spacy"])
    wait_for(lambda: job.phase == "tagging" and slow.calls >= 2, 60, what="tagging to begin")
    with pytest.raises(FileRefused, match="already have a file"):  # one active job per owner
        jobs.submit("alice", predictor, jsonl_file(tmp_path / "other.jsonl", 3), model="tiny")
    t0 = time.monotonic()
    assert jobs.cancel("alice") == "Cancelling…"
    assert job.ended_event.wait(10) and job.state == tagging.CANCELLED
    assert time.monotonic() - t0 < 2.0 and not job.folder.exists() and job.outputs == {}


def test_service_tagging_limits_and_bad_files_are_refused_by_name(jobs: FileJobs, predictor, tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    big.write_text("word " * 50_000, encoding="utf-8")
    with pytest.raises(FileRefused, match=r"big.txt: the file is 250.0 KB, over this app's limit of 200.0 KB .*TAGGER_TAG_FILE_MAX_MB"):
        jobs.submit("alice", predictor, big, model="tiny")
    empty = tmp_path / "empty.jsonl"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(DataError, match="empty.jsonl: the file is empty"):
        jobs.submit("alice", predictor, empty, model="tiny")
    with pytest.raises(InputError, match="threshold must be a number from 0 to 1"):
        jobs.submit("alice", predictor, jsonl_file(tmp_path / "ok.jsonl", 2), model="tiny", threshold=2)
    many = tmp_path / "many.txt"
    many.write_text("Paris is nice.\n" * 600, encoding="utf-8")
    job = jobs.submit("alice", predictor, many, model="tiny", options=FileOptions(lines=True))
    assert job.ended_event.wait(60) and job.state == tagging.FAILED
    assert "more than 500 documents" in job.error and "TAGGER_TAG_FILE_MAX_DOCS" in job.error and not job.folder.exists()
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "Paris"}\n' * 3 + '{"body": "x"}\n', encoding="utf-8")
    job = jobs.submit("alice", predictor, bad, model="tiny")
    assert job.ended_event.wait(60) and job.state == tagging.FAILED and 'bad.jsonl, line 4: no "text" field' in job.error


def test_service_tagging_queue_is_bounded_and_a_waiting_job_cancels_at_once(jobs: FileJobs, predictor, tmp_path: Path) -> None:
    slow = Slow(predictor, 0.2)
    running = jobs.submit("alice", slow, jsonl_file(tmp_path / "a.jsonl", 300), model="tiny")
    wait_for(lambda: running.state == tagging.RUNNING, 30, what="the first job to start")
    waiting = jobs.submit("bob", predictor, jsonl_file(tmp_path / "b.jsonl", 3), model="tiny")
    assert jobs.snapshot(waiting)["position"] == 1
    with pytest.raises(FileRefused, match="1 files are waiting"):
        jobs.submit("carol", predictor, jsonl_file(tmp_path / "c.jsonl", 3), model="tiny")
    assert jobs.cancel("bob") == "Cancelled; no output was written." and waiting.state == tagging.CANCELLED
    assert not waiting.folder.exists()
    jobs.cancel("alice")
    assert running.ended_event.wait(10)
