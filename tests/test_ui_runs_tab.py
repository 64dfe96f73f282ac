"""demo.ui.runs_tab handlers (and the Tag tab's model lookups) with private runs, called directly
with an AppContext: each owner sees, tags with, downloads, renames and deletes only their runs."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from types import SimpleNamespace

import gradio as gr
import pytest
from support import add_run, app_settings

from demo.service.app_context import AppContext
from demo.ui import runs_tab, tag_tab

pytestmark = pytest.mark.app
ALICE_TOKEN, BOB_TOKEN = "a" * 32, "b" * 32
REQUEST = SimpleNamespace(username=None)



@pytest.fixture
def ctx(tiny_base: Path, tiny_tagger: Path, tmp_path: Path):
    context = AppContext(app_settings(tmp_path, tiny_base, tiny_tagger, prewarm_worker=False, private_runs=True))
    add_run(context.runs.root, tiny_tagger, "trained-alice", ALICE_TOKEN, 2000.0)
    add_run(context.runs.root, tiny_tagger, "trained-bob", BOB_TOKEN, 1000.0)
    yield context
    context.close()


def test_runs_tab_each_owner_sees_their_runs(ctx: AppContext) -> None:
    table, picker, *_ = runs_tab.list_runs(ctx, None, ALICE_TOKEN, REQUEST)
    assert table["name"].tolist() == ["trained-alice"] and picker.choices == [("trained-alice", "trained-alice")]
    assert table.columns.tolist() == ["name", "whose", "date", "data", "labels", "epochs", "dev F1", "time", "device"]
    assert table["whose"].tolist() == ["you"]
    assert table["data"].tolist() == ["mine.conll (2 sentences)"] and table["labels"].tolist() == ["LOC, PER"]
    empty, *_ = runs_tab.list_runs(ctx, None, "", REQUEST)  # anonymous: no runs, but the table keeps its headers
    assert empty.empty and empty.columns.tolist()[0] == "name"
    models = {m["name"]: m for m in runs_tab.models(ctx, ALICE_TOKEN, REQUEST)}
    assert "trained-alice" in models and "trained-bob" not in models and "tiny" in models
    run = models["trained-alice"]
    assert run["source"] == "run" and run["labels"][0] == "O" and run["base"] and run["head"] == "linear" and run["created"]
    assert {"dev_f1", "test_f1"} <= set(run)


def test_runs_tab_tagging_with_someone_elses_run_is_refused(ctx: AppContext) -> None:
    text = "Angela Merkel visited Paris today."
    assert tag_tab.tag(ctx, text, "trained-alice", ALICE_TOKEN, REQUEST)[2]["entities"]
    with pytest.raises(gr.Error, match="Unknown model 'trained-alice'"):
        tag_tab.tag(ctx, text, "trained-alice", BOB_TOKEN, REQUEST)
    with pytest.raises(gr.Error, match="Unknown model 'trained-alice'"):
        tag_tab.tag(ctx, text, "trained-alice", "", REQUEST)
    names = tag_tab.refresh_models(ctx, None, BOB_TOKEN, REQUEST)[0].choices
    assert ("trained-bob", "trained-bob") in names and ("trained-alice", "trained-alice") not in names


def test_runs_tab_download_rename_delete_owner_only(ctx: AppContext) -> None:
    path = runs_tab.download(ctx, "trained-alice", ALICE_TOKEN, REQUEST)
    with zipfile.ZipFile(path) as zf:
        meta = json.loads(zf.read("trained-alice/tagger.json"))
    assert "owner" not in meta["run"]
    with pytest.raises(gr.Error, match="Unknown model"):
        runs_tab.download(ctx, "trained-alice", BOB_TOKEN, REQUEST)
    with pytest.raises(gr.Error, match="Unknown model"):
        runs_tab.rename(ctx, "trained-alice", "stolen", BOB_TOKEN, REQUEST)
    assert "NER v2" in runs_tab.rename(ctx, "trained-alice", "NER v2", ALICE_TOKEN, REQUEST)
    assert (ctx.runs.root / "trained-alice").is_dir()  # the folder keeps its id
    assert tag_tab.tag(ctx, "Paris", "NER v2", ALICE_TOKEN, REQUEST)[5]
    with pytest.raises(gr.Error, match="taken"):
        runs_tab.rename(ctx, "NER v2", "tiny", ALICE_TOKEN, REQUEST)  # a --models-dir model's name
    with pytest.raises(gr.Error, match="only runs can be deleted"):
        runs_tab.delete(ctx, "tiny", ALICE_TOKEN, REQUEST)
    with pytest.raises(gr.Error, match="Unknown model"):
        runs_tab.delete(ctx, "NER v2", BOB_TOKEN, REQUEST)
    assert runs_tab.delete(ctx, "NER v2", ALICE_TOKEN, REQUEST).startswith("Deleted")
    assert not (ctx.runs.root / "trained-alice").exists() and (ctx.runs.root / "trained-bob").is_dir()
    assert runs_tab.use(ctx, "trained-bob")[0] == "trained-bob"


def test_runs_tab_shared_runs_say_whose_and_offer_only_what_works(tiny_base: Path, tiny_tagger: Path, tmp_path: Path) -> None:
    """Shared runs (the local default): everyone's runs are listed with whose they are; Rename and
    Delete are offered on the caller's own runs only, and Delete asks before anything is removed."""
    context = AppContext(app_settings(tmp_path, tiny_base, tiny_tagger, prewarm_worker=False, private_runs=False))
    try:
        add_run(context.runs.root, tiny_tagger, "trained-alice", ALICE_TOKEN, 2000.0)
        add_run(context.runs.root, tiny_tagger, "trained-bob", BOB_TOKEN, 1000.0)
        table, picker, use, download, analyse, delete, rename, note, confirm = runs_tab.list_runs(context, "trained-bob", ALICE_TOKEN,
                                                                                                 REQUEST)
        assert dict(zip(table["name"], table["whose"])) == {"trained-alice": "you", "trained-bob": "another user"}
        assert picker.value == "trained-bob" and use.interactive and download.interactive and analyse.interactive
        assert delete.interactive is False and rename.interactive is False and "only its owner" in note
        assert confirm.visible is False
        *_, delete, rename, note, _ = runs_tab.pick(context, "trained-alice", ALICE_TOKEN, REQUEST)
        assert delete.interactive and rename.interactive and note == ""
        row, question = runs_tab.ask_delete(context, "trained-alice", ALICE_TOKEN, REQUEST)
        assert row.visible and "for good" in question and (context.runs.root / "trained-alice").is_dir()  # asked, not removed
        assert runs_tab.cancel_delete()[1] == "Nothing was deleted." and (context.runs.root / "trained-alice").is_dir()
        with pytest.raises(gr.Error, match="Only the owner"):
            runs_tab.delete(context, "trained-bob", ALICE_TOKEN, REQUEST)
        assert runs_tab.delete(context, "trained-alice", ALICE_TOKEN, REQUEST).startswith("Deleted")
        assert not (context.runs.root / "trained-alice").exists()
        # a finished job's run is picked when the Fine-tune tab announces it
        assert runs_tab.list_runs(context, "trained-bob", BOB_TOKEN, REQUEST)[1].value == "trained-bob"
    finally:
        context.close()
