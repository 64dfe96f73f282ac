"""demo.ui.tag_file (the Tag tab's "Tag a file" panel) and the Tag tab's threshold, handler by handler
with an AppContext (no server): preview and options, the checks said at their input, a job from Start
to every download, cancel, /tag_file, and private runs."""

from __future__ import annotations

import json
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import gradio as gr
import pytest
from support import add_run, app_settings, wait_for

from demo.service.app_context import AppContext
from demo.service.file_jobs import DONE
from demo.service.owners import token_owner
from demo.ui import tag_file, tag_tab
from tagger.outputs import OUTPUT_FORMATS

pytestmark = pytest.mark.app
ALICE, BOB = "a" * 32, "b" * 32
REQUEST = SimpleNamespace(username=None)
SENTENCE = "Angela Merkel visited Paris today."



@pytest.fixture(scope="module")
def ctx(tiny_base: Path, tiny_tagger: Path, tmp_path_factory: pytest.TempPathFactory):
    """Private runs; Alice has a run."""
    tmp = tmp_path_factory.mktemp("tag-file")
    settings = app_settings(tmp, tiny_base, tiny_tagger, default_model=None, prewarm_worker=False, private_runs=True,
                            tag_file_max_mb=0.2, tag_file_max_docs=300)
    settings.app_models_dir.mkdir(parents=True)
    add_run(settings.app_models_dir, tiny_tagger, "trained-alice", ALICE)
    context = AppContext(settings)
    yield context
    context.close()


def write(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)


def jsonl(path: Path, n: int, field: str = "text") -> str:
    return write(path, "".join(json.dumps({"id": i, field: SENTENCE if i % 2 else "John lives in Berlin now."}) + "\n" for i in range(n)))


def marks(result: tuple) -> list[str]:
    """The messages of a validator's answer ("" where the input is fine)."""
    return [m["message"] if not m["is_valid"] else "" for m in result]


def follow(ctx: AppContext, token: str) -> tuple:
    """Poll as the page's timer does until the caller's job ends; the last view drawn."""
    seen, view = None, None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        out = tag_file.poll(ctx, token, seen, REQUEST)
        if not isinstance(out[-1], list) or out[-1] != seen:
            view, seen = out, out[-1]
        if seen and seen[2] not in ("queued", "running"):
            return view
        time.sleep(0.2)
    raise AssertionError("the job did not end")


# ------------------------------------------------------------------------------------ preview and checks
def test_ui_tag_file_preview_shows_the_first_records_and_the_options_that_apply(ctx: AppContext, tmp_path: Path) -> None:
    table, info, field, column, lines = tag_file.inspect(ctx, jsonl(tmp_path / "notes.jsonl", 8))
    assert len(table) == tag_file.PREVIEW_ROWS and table["text"].tolist()[:2] == ["John lives in Berlin now.", SENTENCE]
    assert "**notes.jsonl**: jsonl" in info and (field.visible, column.visible, lines.visible) == (True, False, False)
    _, info, field, column, lines = tag_file.inspect(ctx, write(tmp_path / "t.csv", f"id,body\n1,{SENTENCE}\n"), "text", "body")
    assert "csv" in info and (field.visible, column.visible, lines.visible) == (False, True, False)
    table, _, _, _, lines = tag_file.inspect(ctx, write(tmp_path / "t.txt", f"{SENTENCE}\nJohn lives in Berlin.\n"), lines=True)
    assert len(table) == 2 and lines.visible
    table, info, field, *_ = tag_file.inspect(ctx, jsonl(tmp_path / "body.jsonl", 3, field="body"))
    assert len(table) == 0 and info.startswith("⚠ body.jsonl, line 1: no") and '"Text field"' in info
    assert field.visible  # the field to put right is shown with the message
    table, _, field, *_ = tag_file.inspect(ctx, jsonl(tmp_path / "body.jsonl", 3, field="body"), "body")
    assert len(table) == 3 and field.visible
    _, info, field, column, lines = tag_file.inspect(ctx, write(tmp_path / "empty.txt", ""))
    assert info.startswith("⚠ empty.txt: the file is empty") and not (field.visible or column.visible or lines.visible)
    assert tag_file.inspect(ctx, None)[1] == ""


def test_ui_tag_file_bad_input_is_said_at_the_input(ctx: AppContext, tmp_path: Path) -> None:
    ok = jsonl(tmp_path / "ok.jsonl", 3)
    assert marks(tag_file.check_start(ctx, ok, "tiny", 0.5)) == [""] * 7
    cases = {
        "empty": (write(tmp_path / "empty.txt", ""), 0, "empty.txt: the file is empty"),
        "binary": (str(tmp_path / "bin.dat"), 0, "bin.dat: "),
        "over the limit": (write(tmp_path / "big.txt", "word " * 50_000), 0, "over this app's limit of 200.0 KB for a file to tag (TAGGER_TAG_FILE_MAX_MB)"),
        "missing field": (jsonl(tmp_path / "f.jsonl", 2, field="body"), 3, 'no "text" field; the record has "id", "body"'),
        "missing column": (write(tmp_path / "c.csv", "id,body\n1,x\n"), 4, 'no "text" column'),
        "no file": (None, 0, tag_file.UPLOAD_FIRST),
    }
    (tmp_path / "bin.dat").write_bytes(b"\x00\x01\x02" * 50)
    for name, (upload, where, message) in cases.items():
        got = marks(tag_file.check_start(ctx, upload, "tiny", 0.0))
        assert message in got[where] and sum(bool(m) for m in got) == 1, (name, got)
    assert marks(tag_file.check_start(ctx, ok, "", 1.5))[1:3] == ["Choose a model first.", tag_file.validate_threshold(1.5)["message"]]
    assert "threshold must be a number from 0 to 1" in marks(tag_file.check_start(ctx, ok, "tiny", 1.5))[2]
    assert "unknown output format 'xml'" in marks(tag_file.check_api(ctx, ok, "tiny", 0.0, "xml"))[3]
    assert marks(tag_file.check_api(ctx, ok, "tiny", 0.0, "label-studio")) == [""] * 8  # aliases too
    assert not list(ctx.tagging.files.root.iterdir())  # nothing was queued, nothing written


# ------------------------------------------------------------------------------------ jobs
def test_ui_tag_file_start_to_every_download(ctx: AppContext, tmp_path: Path) -> None:
    view = tag_file.start(ctx, jsonl(tmp_path / "news.jsonl", 40), "tiny", 0.0, owner_token=ALICE, request=REQUEST)
    assert view[4].interactive is False and view[5].interactive is True and view[6].active is True  # Start off, Cancel on, timer on
    bar, status, results, files, start_btn, cancel_btn, timer, _ = follow(ctx, ALICE)
    assert "done in" in bar and status.startswith("✓ Tagged **news.jsonl** with `tiny`: 40 documents") and "Download every" in status
    assert results["id"].tolist()[:2] == ["0", "1"] and "Angela Merkel · PER" in results["entities (score)"].tolist()[1]
    assert [Path(f).suffix for f in files] == list(OUTPUT_FORMATS.values()) and all(Path(f).is_file() for f in files)
    assert start_btn.interactive and not cancel_btn.interactive and timer.active is False
    again = tag_file.poll(ctx, ALICE, [*tag_file.poll(ctx, ALICE, None, REQUEST)[-1]], REQUEST)
    assert all(v == {"__type__": "update"} for v in again[:6])  # drawn once; a later tick changes nothing
    assert tag_file.poll(ctx, BOB, None, REQUEST)[1] == {"__type__": "update"}  # another owner sees none of it


def test_ui_tag_file_cancel_stops_the_owners_job_only(ctx: AppContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = ctx.registry.predictor

    class Slow:
        def __init__(self, inner: Any) -> None:
            self.inner = inner

        def __getattr__(self, name: str) -> Any:
            return getattr(self.inner, name)

        def tag_words(self, *args: Any) -> Any:
            time.sleep(0.1)
            return self.inner.tag_words(*args)

    monkeypatch.setattr(ctx.registry, "predictor", lambda *a, **k: Slow(real(*a, **k)))
    tag_file.start(ctx, jsonl(tmp_path / "long.jsonl", 280), "tiny", 0.0, owner_token=ALICE, request=REQUEST)
    job = ctx.tagging.files.latest(token_owner(ALICE))
    wait_for(lambda: job.phase == "tagging" and job.docs_done + job.words_done > 0, 60, what="tagging to begin")
    assert tag_file.cancel(ctx, BOB, REQUEST) == "No file of yours is being tagged." and not job.finished
    assert tag_file.cancel(ctx, ALICE, REQUEST) == "Cancelling…"
    _, status, _, files, *_ = follow(ctx, ALICE)
    assert status.startswith("Cancelled **long.jsonl**") and files is None and not job.folder.exists()


def test_ui_tag_file_api_returns_the_chosen_format_with_the_threshold(ctx: AppContext, tmp_path: Path) -> None:
    source = jsonl(tmp_path / "api.jsonl", 6)
    kept = Path(tag_file.tag_file(ctx, source, "tiny", 0.0, "conll", owner_token=ALICE, request=REQUEST, progress=lambda *a, **k: None))
    none = Path(tag_file.tag_file(ctx, source, "tiny", 1.0, ".conll", owner_token=ALICE, request=REQUEST, progress=lambda *a, **k: None))
    assert kept.name == "api-tagged.conll" and "B-PER" in kept.read_text()
    tags = [ln.split("\t")[1] for ln in none.read_text().splitlines() if "\t" in ln and not ln.startswith("-DOCSTART-")]
    assert tags and set(tags) == {"O"}  # every entity under 1.0: its words are O
    with pytest.raises(gr.Error, match="unknown output format 'xml'"):
        tag_file.tag_file(ctx, source, "tiny", 0.0, "xml", request=REQUEST, progress=lambda *a, **k: None)


def test_ui_tag_file_private_runs_stay_private(ctx: AppContext, tmp_path: Path) -> None:
    source = jsonl(tmp_path / "p.jsonl", 4)
    for who in (BOB, ""):
        with pytest.raises(gr.Error, match="Unknown model 'trained-alice'"):
            tag_file.start(ctx, source, "trained-alice", 0.0, owner_token=who, request=REQUEST)
        with pytest.raises(gr.Error, match="Unknown model 'trained-alice'"):
            tag_file.tag_file(ctx, source, "trained-alice", 0.0, "jsonl", owner_token=who, request=REQUEST, progress=lambda *a, **k: None)
        assert "trained-alice" not in tag_tab.refresh_models(ctx, None, who, REQUEST)[0].choices
    out = tag_file.tag_file(ctx, source, "trained-alice", 0.0, "jsonl", owner_token=ALICE, request=REQUEST, progress=lambda *a, **k: None)
    assert len(Path(out).read_text().splitlines()) == 4
    job = ctx.tagging.files.latest(token_owner(ALICE))
    assert job.state == DONE and ctx.tagging.files.latest(token_owner(BOB)) is None


# ------------------------------------------------------------------------------------ the threshold of /tag
def test_ui_tag_file_threshold_applies_to_single_texts(ctx: AppContext) -> None:
    everything = tag_tab.tag(ctx, SENTENCE, "tiny", "", threshold=0.0)
    scores = sorted(e["score"] for e in everything[2]["entities"])
    assert len(scores) == 2
    cut = (scores[0] + scores[1]) / 2
    some = tag_tab.tag(ctx, SENTENCE, "tiny", "", threshold=cut)
    assert [e["score"] for e in some[2]["entities"]] == [scores[1]] and len(some[4]["data"]) == 6  # words all kept
    assert "1 entity scored below the threshold" in some[5] and some[0] is some[2]
    assert tag_tab.tag(ctx, SENTENCE, "tiny")[2] == everything[2]  # the parameter is optional, 0 by default
    with pytest.raises(gr.Error, match="threshold must be a number from 0 to 1"):
        tag_tab.tag(ctx, SENTENCE, "tiny", "", threshold=-0.1)
    assert "threshold must be" in marks(tag_tab.check_text(SENTENCE, "tiny", "", 7))[3]
