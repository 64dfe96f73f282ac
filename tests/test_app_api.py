"""The web app through its API (gradio_client), plus unit tests of its registry and rendering.

One app is launched in-process on a free 127.0.0.1 port for the module; training jobs use the
tiny random base (``tiny_base``) so each takes seconds.
"""

from __future__ import annotations

import ast
import os
import signal
import zipfile
from pathlib import Path

import pytest
from learning import assert_learned, assert_loss_fell, dev_texts, micro_f1, pipeline_entities, tag_entities
from support import (
    DEV_FILE,
    REPO,
    TINY_TRAIN,
    TRAIN_FILE,
    app_client,
    app_model_dirs,
    needs_default,
    running_app,
    start_app,
    wait_for,
)

pytestmark = pytest.mark.app
SENTENCE = "Angela Merkel visited Paris today."


@pytest.fixture(scope="module")
def app(tiny_base: Path, tiny_tagger: Path, tmp_path_factory: pytest.TempPathFactory):
    yield from running_app(tmp_path_factory, "app", tiny_base, tiny_tagger)


@pytest.fixture(scope="module")
def client(app, tmp_path_factory: pytest.TempPathFactory):
    return app_client(app, tmp_path_factory)


def train_args(train: Path = TRAIN_FILE, dev: Path | None = DEV_FILE, **changes):
    from gradio_client import handle_file

    s = dict(TINY_TRAIN, **changes)
    return (handle_file(str(train)), handle_file(str(dev)) if dev else None, s["base_label"], s["head"], s["epochs"], s["lr"],
            s["batch_size"], s["max_length"], s["label_column"])


def entities(result) -> list[tuple[str, str]]:
    value = result[2]
    return [(value["text"][e["start"] : e["end"]], e["entity"]) for e in value["entities"]]


# ------------------------------------------------------------------------------------ tag
def test_app_tag_returns_expected_entities(client) -> None:
    result = client.predict(SENTENCE, "tiny", api_name="/tag")
    highlighted, words, value, ent_table, word_table, info = result
    assert entities(result) == [("Angela Merkel", "PER"), ("Paris", "LOC")]
    assert value["text"] == SENTENCE
    assert all(0.0 <= e["score"] <= 1.0 for e in value["entities"])
    assert {"token": "Angela Merkel", "class_or_confidence": "PER"} in highlighted
    assert "".join(t["token"] for t in highlighted) == SENTENCE
    assert [row[1:3] for row in word_table["data"]][:2] == [["Angela", "B-PER"], ["Merkel", "I-PER"]]
    assert [row[:2] for row in ent_table["data"]] == [["Angela Merkel", "PER"], ["Paris", "LOC"]]
    assert "6 words, 2 entities" in info
    assert "".join(t["token"] for t in words) == SENTENCE


@needs_default
def test_app_tag_default_model_finds_entities(client) -> None:
    result = client.predict("German Chancellor Olaf Scholz met Emmanuel Macron in Paris on Tuesday.", "default", api_name="/tag")
    found = entities(result)
    assert ("Olaf Scholz", "PER") in found and ("Paris", "LOC") in found


@pytest.mark.parametrize("name", ["no-such-model", "../../etc", "/etc/passwd", "tiny/../tiny"])
def test_app_tag_unknown_model_gives_clear_error(client, name: str) -> None:
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="Unknown model .* Choose one of: .*tiny"):
        client.predict(SENTENCE, name, api_name="/tag")


def test_app_tag_overlong_text_gives_clear_error(client) -> None:
    from gradio_client.exceptions import AppError

    from tagger.predict import MAX_TEXT_CHARS

    with pytest.raises(AppError, match=f"limit is {MAX_TEXT_CHARS:,}"):
        client.predict("word " * (MAX_TEXT_CHARS // 5 + 1), "tiny", api_name="/tag")


def test_app_tag_empty_text_gives_clear_error(client) -> None:
    from gradio_client.exceptions import ValidationError

    with pytest.raises(ValidationError, match="Type or paste some text"):  # the Tag event's validator, before the queue
        client.predict("   ", "tiny", api_name="/tag")


def test_app_tag_long_text_is_tagged_completely(client) -> None:
    text = " ".join([SENTENCE] * 600)  # 3,600 words
    result = client.predict(text, "tiny", api_name="/tag")
    assert len(result[4]["data"]) == 3600
    labels = [label for _, label in entities(result)]
    assert labels.count("PER") == 600 and labels.count("LOC") == 600  # one of each per sentence, to the very end
    assert result[2]["entities"][-1]["end"] == len(text) - len(" today.")


def test_app_tag_html_comes_back_as_text(client) -> None:
    text = "<script>window.__xss=1</script> Angela Merkel visited Paris today."
    result = client.predict(text, "tiny", api_name="/tag")
    assert result[2]["text"] == text
    assert "".join(t["token"] for t in result[0]) == text


# ------------------------------------------------------------------------------------ data report
def test_app_data_report_shows_columns_and_labels(client) -> None:
    from gradio_client import handle_file

    report, column, labels = client.predict(handle_file(str(TRAIN_FILE)), None, api_name="/data_report")
    assert "40 sentences" in report and "IOB1" in report and "4 columns" in report
    assert column["value"] == 3 and len(column["choices"]) == 3 and column["visible"]
    assert {row[0]: row[1] for row in labels["data"]} == {"PER": 40, "LOC": 31, "ORG": 28, "MISC": 5}


def test_app_data_report_bad_file_is_explained(client, tmp_path: Path) -> None:
    from gradio_client import handle_file

    bad = tmp_path / "one-column.txt"
    bad.write_text("just\nwords\n\nhere\n", encoding="utf-8")
    report, _, _ = client.predict(handle_file(str(bad)), None, api_name="/data_report")
    assert report.startswith("❌") and "line 1" in report and "only one column" in report


def test_app_data_report_escapes_file_and_label_names(client, tmp_path: Path) -> None:
    from gradio_client import handle_file

    evil = tmp_path / "<img src=x onerror=alert(1)>.conll"
    evil.write_text("Paris B-<b>LOC</b>\nis O\n\nBerlin B-<b>LOC</b>\n", encoding="utf-8")
    report, _, labels = client.predict(handle_file(str(evil)), None, api_name="/data_report")
    assert "<img" not in report and "<b>" not in report
    assert labels["data"] == [["<b>LOC</b>", 2]]  # a table cell: shown as text


# ------------------------------------------------------------------------------------ training
def test_app_train_then_tag_with_new_model(app, client, tmp_path: Path) -> None:
    from gradio_client import Client, handle_file

    before = app_model_dirs(app)
    job = client.submit(*train_args(), api_name="/train")
    status, _loss_plot, _f1_plot, scores, zip_path, name, job_id, token = job.result(timeout=600)
    assert "Done" in status and name in status
    assert name in app.ctx.registry.names()
    rows = {row[0]: row for row in scores["data"]}
    assert set(rows) == {"LOC", "MISC", "ORG", "PER", "micro avg"}
    # it learned: the dev F1 of the scores table, and the loss curve /status gives
    assert_learned(micro_f1(scores), "/train's scores table")
    state = client.predict(job_id, token, api_name="/status")
    assert state["state"] == "done" and micro_f1(scores) == pytest.approx(state["dev"]["f1"], abs=0.05)
    assert_loss_fell(state["loss"], "/status's loss points")
    assert len(job.outputs()) >= 2  # progress came in before the end
    assert app_model_dirs(app) - before == {name}  # one complete model, no temp leftovers
    # the model served under the new name is the learned one: /evaluate scores it on the dev file as the run did
    _summary, eval_scores, *_ = client.predict(handle_file(str(DEV_FILE)), name, "no comparison", -1, token, api_name="/evaluate")
    assert micro_f1(eval_scores) == micro_f1(scores)
    # usable at once through tag, also from another client session
    result = Client(app.url, verbose=False).predict(SENTENCE, name, api_name="/tag")
    assert result[2]["text"] == SENTENCE and len(result[4]["data"]) == 6
    # the zip is a Hugging Face folder that transformers.pipeline loads and tags with exactly as /tag does
    with zipfile.ZipFile(zip_path) as zf:
        assert f"{name}/config.json" in zf.namelist() and f"{name}/model.safetensors" in zf.namelist()
        zf.extractall(tmp_path)
    texts = dev_texts()
    ours = [tag_entities(client.predict(text, name, api_name="/tag")[2]) for text in texts]
    assert sum(map(len, ours)) >= len(texts), ours  # the learned model finds entities (the dev sentences have 2-3 each)
    assert pipeline_entities(tmp_path / name, texts) == ours
    # the Runs endpoints: download, rename (the display name; the folder keeps its id), delete
    assert Path(client.predict(name, token, api_name="/download")).name == f"{name}.zip"
    assert client.predict(name, "filings NER", token, api_name="/rename") == "Renamed to **filings NER**."
    assert "filings NER" in {m["name"] for m in client.predict(token, api_name="/models")}
    assert (app.ctx.settings.app_models_dir / name).is_dir()
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="Only the owner of 'filings NER' can delete it"):
        client.predict("filings NER", "o" * 32, api_name="/delete")  # runs are shared here, but not to delete
    assert client.predict("filings NER", token, api_name="/delete") == "Deleted **filings NER**."
    assert not (app.ctx.settings.app_models_dir / name).exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "PNG image, not a text file"),
        (b"one\ncolumn\n", "line 1: only one column"),
        (b"", "empty"),
        (b"w1 O\nw2 O\n\nw3 O\n", "single label"),
    ],
)
def test_app_train_bad_upload_gives_clear_error(client, tmp_path: Path, content: bytes, message: str) -> None:
    from gradio_client.exceptions import AppError

    bad = tmp_path / "upload.txt"
    bad.write_bytes(content)
    with pytest.raises(AppError, match=message):
        client.predict(*train_args(train=bad, dev=None), api_name="/train")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"epochs": 0}, "Epochs: Value 0 is less than minimum value 1"),  # the components' bounds, named
        ({"lr": 5.0}, "Learning rate: Value 5.0 is greater than maximum value 0.01"),
        ({"batch_size": 1000}, "Batch size: Value 1000 is greater than maximum value 128"),
        ({"max_length": 256}, "limit of 128 positions"),
        ({"base_label": "../../etc"}, "Unknown base model"),
        ({"label_column": 7}, "label column 7 does not exist"),
    ],
)
def test_app_train_bad_settings_give_clear_error(client, changes: dict, message: str) -> None:
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match=message):
        client.predict(*train_args(**changes), api_name="/train")


def _start_long_job(app, client, tmp_path: Path):
    """A training job that runs long enough to interfere with (7,000+ steps); returns (client job,
    app job, owner token) once the worker reports training steps."""
    from demo.service.owners import identify

    big = tmp_path / "big.conll"
    big.write_text("\n".join([TRAIN_FILE.read_text(encoding="utf-8")] * 10), encoding="utf-8")
    job = client.submit(*train_args(train=big, epochs=20, batch_size=1), api_name="/train")
    wait_for(lambda: any("step" in (o[0] or "") for o in job.outputs()), 300, what="training steps")
    job_id, token = job.outputs()[-1][6:8]
    train_job = app.ctx.jobs.get(job_id, identify(token).owner)
    assert not train_job.finished and train_job.worker.alive()
    return job, train_job, token


def test_app_train_cancel_stops_worker_and_leaves_no_model(app, client, tmp_path: Path) -> None:
    from gradio_client.exceptions import AppError

    before = app_model_dirs(app)
    job, train_job, token = _start_long_job(app, client, tmp_path)
    # the Tag tab keeps answering while the worker trains
    assert entities(client.predict(SENTENCE, "tiny", api_name="/tag")) == [("Angela Merkel", "PER"), ("Paris", "LOC")]
    # a second training job waits in the training queue, with its position
    waiting = client.submit(*train_args(), api_name="/train")
    wait_for(lambda: waiting.outputs() and waiting.outputs()[-1][6], 60, what="the second job's id")
    second_id, second_token = waiting.outputs()[-1][6:8]
    state = client.predict(second_id, second_token, api_name="/status")
    assert state["state"] == "queued" and state["position"] == 1 and "position 1 of 1" in state["status"]
    # only the owner cancels: another token is refused, the owner's token stops the job
    with pytest.raises(AppError, match="among yours"):
        client.predict(train_job.id, second_token, api_name="/cancel")
    assert client.predict(second_id, second_token, api_name="/cancel") == "Training cancelled; no model was written."
    assert client.predict(train_job.id, token, api_name="/cancel") == "Cancelling…"
    wait_for(lambda: not train_job.worker.alive(), 30, what="the worker to stop")
    wait_for(lambda: app_model_dirs(app) == before, 10, what="clean-up of the unfinished model")
    assert train_job.state == "cancelled"
    assert client.predict(train_job.id, token, api_name="/status")["state"] == "cancelled"
    assert job.result(timeout=30)[0] == "Training cancelled; no model was written."


def test_app_train_worker_killed_gives_clear_error(app, client, tmp_path: Path) -> None:
    from gradio_client.exceptions import AppError

    before = app_model_dirs(app)
    job, train_job, _ = _start_long_job(app, client, tmp_path)
    os.kill(train_job.worker.process.pid, signal.SIGKILL)
    with pytest.raises(AppError, match="training worker stopped unexpectedly .*signal 9"):
        job.result(timeout=60)
    wait_for(lambda: app_model_dirs(app) == before, 10, what="clean-up of the unfinished model")
    assert entities(client.predict(SENTENCE, "tiny", api_name="/tag"))  # the app goes on


CLIENT_THAT_LEAVES = """
import os, sys
from gradio_client import Client, handle_file
client = Client(sys.argv[1], verbose=False)
job = client.submit(handle_file(sys.argv[2]), handle_file(sys.argv[3]), "tiny", "linear", 8, 0.005, 8, 64, -1, api_name="/train")
while not job.outputs() or not job.outputs()[-1][6]:
    import time; time.sleep(0.05)
print(job.outputs()[-1][6], job.outputs()[-1][7], flush=True)
os._exit(0)  # gone right after the first progress update: no goodbye, the connection just drops
"""


def test_app_train_survives_the_client_leaving_and_a_restart(tiny_base: Path, tiny_tagger: Path, tmp_path: Path) -> None:
    """Submit /train from a client process that exits after the first progress update: the job
    runs on and saves a complete run; after an app restart /models lists it (for its owner)."""
    import subprocess
    import sys

    from gradio_client import Client

    from demo.service.runs import is_complete

    app = start_app(tmp_path / "app", tiny_base, tiny_tagger, private_runs=True)
    try:
        out = subprocess.run([sys.executable, "-c", CLIENT_THAT_LEAVES, app.url, str(TRAIN_FILE), str(DEV_FILE)],
                             capture_output=True, text=True, timeout=300, check=True)
        job_id, token = out.stdout.split()
        client = Client(app.url, verbose=False)
        wait_for(lambda: client.predict(job_id, token, api_name="/status")["state"] != "queued", 60, what="the job to start")
        state = wait_for(lambda: (s := client.predict(job_id, token, api_name="/status"))["state"] in ("done", "failed") and s,
                         300, what="the job to end with nobody listening")
        assert state["state"] == "done", state["error"]
        assert len(state["dev_f1"]) == 8 and state["device"] == "cpu"
        assert_learned(state["dev"]["f1"], "the job nobody listened to")  # it learned with nobody listening
        assert is_complete(app.ctx.settings.app_models_dir / job_id)
    finally:
        app.close()
    again = start_app(tmp_path / "app", tiny_base, tiny_tagger, private_runs=True)  # the same models folder
    try:
        client = Client(again.url, verbose=False)
        mine = {m["name"]: m for m in client.predict(token, api_name="/models")}
        assert job_id in mine and mine[job_id]["source"] == "run" and mine[job_id]["dev_f1"] is not None
        assert job_id not in {m["name"] for m in client.predict("", api_name="/models")}  # not for anyone else
        assert client.predict(SENTENCE, job_id, token, api_name="/tag")[2]["text"] == SENTENCE
    finally:
        again.close()


# ------------------------------------------------------------------------------------ units
def test_app_registry_looks_names_up_never_joins_paths(tmp_path: Path, tiny_tagger: Path) -> None:
    from demo.service.registry import ModelRegistry, UnknownModel
    from demo.service.runs import RunStore

    reg = ModelRegistry(tiny_tagger, [], RunStore(tmp_path / "app-models"))
    assert reg.names() == ["default"]
    for name in ["../default", str(tiny_tagger), "default/", "", None, 3]:
        with pytest.raises(UnknownModel):
            reg.get(name)


def test_app_registry_lists_runs_after_default_and_never_deletes_outside(tmp_path: Path, tiny_tagger: Path) -> None:
    import shutil

    from demo.service.registry import ModelRegistry, UnknownModel
    from demo.service.runs import RunStore

    app_dir = tmp_path / "app-models"
    for i in range(3):
        shutil.copytree(tiny_tagger, app_dir / f"trained-{i}")
        os.utime(app_dir / f"trained-{i}" / "tagger.json", (1000 + i, 1000 + i))
    reg = ModelRegistry(tiny_tagger, [], RunStore(app_dir, max_per_owner=2))
    assert reg.names() == ["default", "trained-2", "trained-1", "trained-0"]  # runs newest first (no record: file time)
    assert [r.id for r in reg.runs.enforce_cap(None)] == ["trained-0"]
    with pytest.raises(UnknownModel, match="only runs can be deleted"):
        reg.delete("default", None)
    assert (tiny_tagger / "config.json").is_file()  # the default model is never touched


def test_app_highlight_keeps_adjacent_entities_apart() -> None:
    import gradio as gr

    from demo.ui import render
    from tagger.predict import Entity, Prediction, Word

    text = "Paris Berlin"
    words = (Word("Paris", 0, 5, "B-LOC", 0.9), Word("Berlin", 6, 12, "B-LOC", 0.4))
    pred = Prediction(text, words, (Entity("Paris", 0, 5, "LOC", 0.9), Entity("Berlin", 6, 12, "LOC", 0.4)))
    shown = gr.HighlightedText(combine_adjacent=False).postprocess(render.entity_value(pred)).model_dump()
    assert [t["token"] for t in shown if t["class_or_confidence"]] == ["Paris", "Berlin"]
    raw = gr.HighlightedText(combine_adjacent=False).postprocess(render.word_value(pred, 0.6)).model_dump()
    assert [t["class_or_confidence"] for t in raw if t["class_or_confidence"]] == ["B-LOC", "B-LOC ⚠"]
    assert render.word_table(pred, 0.6)["flag"].tolist() == ["", "⚠ low"]


def test_app_markdown_and_errors_escape_user_text() -> None:
    from demo.ui import render

    assert "<" not in render.md("<script>alert(1)</script>") and "&lt;script&gt;" in render.md("<script>")
    assert render.plain("<img src=x onerror=alert(1)>") == "&lt;img src=x onerror=alert(1)&gt;"


def test_app_queue_full_refuses_requests_at_once(tiny_base: Path, tiny_tagger: Path, tmp_path: Path) -> None:
    """TAGGER_QUEUE_MAX (settings.queue_max_size) bounds the requests waiting in the app's queue: with
    room for one, and one waiting, the next request is refused at once with the README's message."""
    import httpx
    from gradio_client import Client
    from gradio_client.utils import QueueError, Status

    # train_queue=0: one /train stream at a time (the running job's): a second /train waits in the request queue
    app = start_app(tmp_path / "app", tiny_base, tiny_tagger, queue_max_size=1, train_queue=0)
    try:
        client = Client(app.url, verbose=False)
        _, train_job, token = _start_long_job(app, client, tmp_path)
        waiting = Client(app.url, verbose=False).submit(*train_args(), api_name="/train")  # another session
        wait_for(lambda: waiting.status().code == Status.IN_QUEUE, 60, what="the second /train to wait in the queue")
        with pytest.raises(QueueError, match=r"^Queue is full! Please try again\.$"):
            Client(app.url, verbose=False).predict(SENTENCE, "tiny", api_name="/tag")
        resp = httpx.post(f"{app.url}gradio_api/call/tag", json={"data": [SENTENCE, "tiny"]}, timeout=60)
        assert resp.status_code == 503 and resp.json()["detail"].startswith("Queue is full. Max size is 1")
        assert not train_job.finished  # the running job is not disturbed
        # once the waiting request leaves, requests are taken again
        waiting.cancel()

        def tagged() -> bool:
            try:
                return bool(entities(client.predict(SENTENCE, "tiny", api_name="/tag")))
            except QueueError:
                return False

        wait_for(tagged, 60, interval=0.5, what="the queue to take requests again")
        assert client.predict(train_job.id, token, api_name="/cancel") == "Cancelling…"
        wait_for(lambda: train_job.finished, 60, what="the long job to stop")
    finally:
        app.close()


def test_app_demo_never_imports_torch_or_transformers() -> None:
    for path in [*(REPO / "demo").glob("*.py"), REPO / "app.py"]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            assert not any(n.split(".")[0] in ("torch", "transformers") for n in names), f"{path.name} imports {names}"
