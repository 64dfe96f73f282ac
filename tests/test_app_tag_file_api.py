"""/tag_file and the crowd-serving /tag through the API (gradio_client), on the app launched in-process:
every output format comes back and reads back; bad inputs get their own messages and leave nothing
behind; /tag keeps its first three parameters (the threshold is a fourth, optional); concurrent /tag
calls are batched and answer what each call alone answers."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from support import app_client, running_app

from tagger.outputs import OUTPUT_FORMATS

pytestmark = pytest.mark.app
SENTENCE = "Angela Merkel visited Paris today."
TEXTS = ["Angela Merkel visited Paris today.", "John lives in Berlin now.", "Angela Merkel lives in Berlin.", "John visited Paris.",
         "today John visited Angela Merkel in Paris and Berlin .", "Paris ."]


@pytest.fixture(scope="module")
def app(tiny_base: Path, tiny_tagger: Path, tmp_path_factory: pytest.TempPathFactory):
    yield from running_app(tmp_path_factory, "tag-file-api", tiny_base, tiny_tagger, tag_file_max_mb=0.2, tag_batch=8, tag_batch_ms=20,
                           queue_max_size=32)


@pytest.fixture(scope="module")
def client(app, tmp_path_factory: pytest.TempPathFactory):
    return app_client(app, tmp_path_factory)


def jsonl(path: Path, n: int, field: str = "text") -> Path:
    path.write_text("".join(json.dumps({"id": i, field: TEXTS[i % len(TEXTS)]}) + "\n" for i in range(n)), encoding="utf-8")
    return path


def leftovers(app) -> list[Path]:
    """Files the app's file jobs hold (outputs of finished jobs are kept for download; nothing else)."""
    return [p for p in app.ctx.tagging.files.root.rglob("*") if p.is_file()]


def test_app_tag_file_returns_every_format_that_reads_back(client, tmp_path: Path) -> None:
    from gradio_client import handle_file
    from spacy.tokens import DocBin

    from tagger.data import read_file
    from tagger.words import _spacy_pipeline

    source = jsonl(tmp_path / "notes.jsonl", 12)
    out = {fmt: Path(client.predict(handle_file(str(source)), "tiny", 0.0, fmt, api_name="/tag_file")) for fmt in OUTPUT_FORMATS}
    assert {fmt: p.name for fmt, p in out.items()} == {
        "jsonl": "notes-tagged.jsonl", "csv": "notes-tagged.csv", "conll": "notes-tagged.conll", "spacy": "notes-tagged.spacy",
        "json": "notes-tagged.label-studio.json"}
    spans = read_file(out["jsonl"]).sentences  # the spans read back as training data
    assert sum(len(s.words) for s in spans) > 12 and any("B-PER" in s.tags for s in spans)
    docs = list(DocBin().from_disk(out["spacy"]).get_docs(_spacy_pipeline("en").vocab))
    assert len(docs) == 12 and ("Angela Merkel", "PER") in [(e.text, e.label_) for e in docs[0].ents]
    assert out["csv"].read_text().splitlines()[0] == "id,start,end,text,label,score"
    assert "Angela\tB-PER" in out["conll"].read_text().splitlines()
    tasks = json.loads(out["json"].read_text())
    assert len(tasks) == 12 and tasks[0]["predictions"][0]["result"][0]["value"]["labels"] == ["PER"]


def test_app_tag_file_bad_inputs_get_their_own_message_and_leave_nothing(app, client, tmp_path: Path) -> None:
    import httpx
    from gradio_client import handle_file
    from gradio_client.exceptions import ValidationError

    before = leftovers(app)
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "bin.dat").write_bytes(b"\x00\x01" * 100)
    (tmp_path / "big.txt").write_text("word " * 50_000)
    cases = [
        ((tmp_path / "empty.txt", "tiny", 0.0, "jsonl"), "empty.txt: the file is empty"),
        ((tmp_path / "bin.dat", "tiny", 0.0, "jsonl"), "bin.dat: "),
        ((tmp_path / "big.txt", "tiny", 0.0, "jsonl"), "over this app's limit of 200.0 KB for a file to tag (TAGGER_TAG_FILE_MAX_MB)"),
        ((jsonl(tmp_path / "f.jsonl", 2, field="body"), "tiny", 0.0, "jsonl"), 'text_field: f.jsonl, line 1: no "text" field'),
        ((jsonl(tmp_path / "ok.jsonl", 2), "tiny", 0.0, "xml"), "output_format: unknown output format 'xml'"),
    ]
    for (path, model, threshold, fmt), message in cases:
        with pytest.raises(ValidationError, match="failed validation") as err:
            client.predict(handle_file(str(path)), model, threshold, fmt, api_name="/tag_file")
        assert message in str(err.value), (path.name, str(err.value))
    with pytest.raises(httpx.HTTPStatusError) as err:  # out of the slider's range: refused before the queue, by name
        client.predict(handle_file(str(tmp_path / "ok.jsonl")), "tiny", 1.5, "jsonl", api_name="/tag_file")
    assert err.value.response.status_code == 400 and "Confidence threshold: Value 1.5 is greater than maximum value 1" in err.value.response.text
    assert leftovers(app) == before


def test_app_tag_file_endpoints_go_through_the_bounded_queue(app) -> None:
    fns = {fn.api_name: fn for fn in app.blocks.fns.values() if fn.api_name in ("tag", "tag_file")}
    assert set(fns) == {"tag", "tag_file"} and all(fn.queue for fn in fns.values())  # a full queue refuses them at once
    assert app.blocks._queue.max_size == app.ctx.settings.queue_max_size
    batcher = app.ctx.tagging.batcher  # batching: as many at once as the batches take
    assert fns["tag"].concurrency_limit == app.ctx.settings.tag_batch * batcher.workers == app.ctx.tagging.concurrency
    assert batcher.batches(object())


def test_app_tag_keeps_its_three_parameters_and_takes_a_threshold(client) -> None:
    plain = client.predict(SENTENCE, "tiny", "", api_name="/tag")
    assert len(plain) == 6 and [e["entity"] for e in plain[2]["entities"]] == ["PER", "LOC"]
    assert client.predict(SENTENCE, "tiny", api_name="/tag")[2] == plain[2]
    none = client.predict(SENTENCE, "tiny", "", 1.0, api_name="/tag")
    assert none[2]["entities"] == [] and "2 entities scored below the threshold 1 left out" in none[5] and len(none[4]["data"]) == 6


def test_app_tag_concurrent_calls_are_batched_and_answer_as_alone(app, client, tmp_path_factory: pytest.TempPathFactory) -> None:
    from gradio_client import Client

    texts = [TEXTS[i % len(TEXTS)] + " John visited Berlin." * (i % 3) for i in range(16)]
    alone = [client.predict(t, "tiny", api_name="/tag") for t in texts]
    clients = [Client(app.url, verbose=False, ssl_verify=False) for _ in texts]
    gate = threading.Barrier(len(texts))
    sizes_before = dict(app.ctx.tagging.batcher.sizes)

    def one(i: int):
        gate.wait()
        return clients[i].predict(texts[i], "tiny", api_name="/tag")

    with ThreadPoolExecutor(len(texts)) as pool:
        together = list(pool.map(one, range(len(texts))))
    sizes = {k: v - sizes_before.get(k, 0) for k, v in app.ctx.tagging.batcher.sizes.items()}
    assert max(k for k, v in sizes.items() if v) > 1, sizes  # some requests were tagged together
    for a, b in zip(alone, together, strict=True):
        assert [(e["start"], e["end"], e["entity"]) for e in a[2]["entities"]] == [(e["start"], e["end"], e["entity"]) for e in b[2]["entities"]]
        assert [r[:3] for r in a[4]["data"]] == [r[:3] for r in b[4]["data"]]
        assert [r[3] for r in a[4]["data"]] == pytest.approx([r[3] for r in b[4]["data"]], abs=1e-3)
