"""demo.ui.correct_tab handlers (and the Fine-tune tab's corrections dataset picker), called directly
with an AppContext on the tiny tagger; the retraining job runs in the real worker process."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import gradio as gr
import pytest
from support import app_settings, wait_for

from demo.service.app_context import AppContext
from demo.service.correct_session import CorrectSession
from demo.service.owners import token_owner
from demo.ui import correct_tab, data_panel, train_tab
from tagger.data import read_file
from tagger.record import read_record

pytestmark = pytest.mark.app
MINE, THEIRS = "m" * 32, "t" * 32
TEXTS = "Angela Merkel visited Paris today.\n\nJohn lives in Berlin now.\n\nAngela Merkel met John in Paris."


@pytest.fixture(scope="module")
def ctx(tiny_base: Path, tiny_tagger: Path, tmp_path_factory: pytest.TempPathFactory):
    """Private runs, and a run of MINE (a copy of the tiny tagger) that nobody else may use."""
    settings = app_settings(tmp_path_factory.mktemp("correct-tab"), tiny_base, tiny_tagger, default_model=None,
                            prewarm_worker=False, private_runs=True, train_threads=1)
    run = settings.app_models_dir / "trained-20240101-000000"
    shutil.copytree(tiny_tagger, run)
    meta = json.loads((run / "tagger.json").read_text(encoding="utf-8"))
    meta["run"] = {"id": run.name, "name": "my-run", "owner": token_owner(MINE), "created": 1.0}
    (run / "tagger.json").write_text(json.dumps(meta), encoding="utf-8")
    context = AppContext(settings)
    yield context
    context.close()


def act(ctx: AppContext, session: CorrectSession, token: str = MINE, **data) -> tuple:
    return correct_tab.act(ctx, session, token, gr.EventData(None, data))


def load(ctx: AppContext, model: str = "tiny", dataset: str = "fixes", token: str = MINE, order: str = "file") -> CorrectSession:
    session, view, summary, source = correct_tab.load_texts(ctx, model, dataset, None, TEXTS, "paragraphs", order, token)
    assert "cx-text" in view and source.open is False and f"Dataset **{dataset}**" in summary
    return session


def test_correct_tab_load_edit_decide_and_undo(ctx: AppContext) -> None:
    session = load(ctx)
    assert [(s["text"], s["label"]) for s in session.current.spans] == [("Angela Merkel", "PER"), ("Paris", "LOC")]
    session, view, _ = act(ctx, session, op="add", start=29, end=33, label="DATE")      # "toda" -> "today"
    assert 'data-label="DATE"' in view and "added 'today' as DATE" in view
    session, view, _ = act(ctx, session, op="relabel", start=22, end=27, label="CITY")
    session, view, _ = act(ctx, session, op="remove", start=0, end=13)
    session, view, _ = act(ctx, session, op="undo")
    assert [s["label"] for s in session.current.spans] == ["PER", "CITY", "DATE"]
    with pytest.warns(UserWarning, match="label 'B-X'"):  # refused: said in the editor, nothing changes
        session, view, summary = act(ctx, session, op="add", start=0, end=6, label="B-X")
    assert "⚠ label &#x27;B-X&#x27;" in view or "⚠ label 'B-X'" in view
    session, view, summary = act(ctx, session, op="accept")
    assert "1 of 3 done" in view and "Dataset **fixes**: 1 text (1 accepted, 0 rejected)" in summary
    session, view, summary = act(ctx, session, op="reject")
    assert "2 texts (1 accepted, 1 rejected)" in summary
    session, view, summary = act(ctx, session, op="skip")
    assert "All 3 texts done" in view and summary == gr.skip()  # a skip saves nothing
    with pytest.warns(UserWarning, match="all texts are done"):
        act(ctx, session, op="accept")
    session, view, summary = act(ctx, session, op="undo")  # the skip
    session, view, summary = act(ctx, session, op="undo")  # the reject
    assert "1 text (1 accepted, 0 rejected)" in summary and session.current.text == "John lives in Berlin now."
    # reloading the same texts leaves out the one already in the dataset
    again = load(ctx)
    assert len(again.items) == 2 and "1 text(s) already in 'fixes'" in again.note


def test_correct_tab_loads_an_uploaded_file_least_confident_first(ctx: AppContext, tmp_path: Path) -> None:
    labeled = tmp_path / "labeled.conll"  # its labels are ignored: the model suggests
    labeled.write_text("-DOCSTART- O\n\nEU B-ORG\nrejects O\nGerman B-MISC\ncall O\n\nAngela B-PER\nMerkel I-PER\nvisited O\n"
                       "Paris B-LOC\ntoday O\n.\tO\n", encoding="utf-8")
    session, _, _, _ = correct_tab.load_texts(ctx, "tiny", "from-file", str(labeled), "ignored when a file is given",
                                                 "paragraphs", "uncertain", MINE)
    assert sorted(i.text for i in session.items) == ["Angela Merkel visited Paris today .", "EU rejects German call"]
    assert all(i.uncertainty is not None for i in session.items)  # asked about every text, to order them
    shown = [session.items[i].uncertainty for i in session.order]
    assert shown == sorted(shown, reverse=True) and "labeled.conll" in session.current.source
    assert correct_tab.poll(ctx, "no-such-job", "tiny", MINE)[1].active is False  # a job the app forgot: nothing to show


def test_correct_tab_models_are_found_for_their_owner_only(ctx: AppContext) -> None:
    assert load(ctx, model="my-run", dataset="mine").model == "my-run"
    with pytest.raises(gr.Error, match="Unknown model 'my-run'"):
        load(ctx, model="my-run", token=THEIRS)
    with pytest.raises(gr.Error, match="Unknown model 'my-run'"):
        correct_tab.suggest(ctx, "Angela Merkel visited Paris.", "my-run", THEIRS)
    found = correct_tab.suggest(ctx, "Angela Merkel visited Paris.", "my-run", MINE)
    assert [(e["text"], e["label"]) for e in found] == [("Angela Merkel", "PER"), ("Paris", "LOC")] and 0 < found[0]["score"] <= 1
    with pytest.raises(gr.Error, match="dataset name '../x'"):
        load(ctx, dataset="../x")
    with pytest.raises(gr.Error, match="Paste some texts"):
        correct_tab.load_texts(ctx, "tiny", "fixes", None, "  ", "paragraphs", "file", MINE)


def test_correct_tab_api_saves_exports_and_keeps_datasets_private(ctx: AppContext, tmp_path: Path) -> None:
    answer = correct_tab.save_correction(ctx, "Peter Blackburn met Angela Merkel.", [[0, 9, "PER"], [20, 34, "PER"]], "api-set")
    token = answer["owner_token"]  # a new token for a caller without one
    assert answer["accepted"] == 1 and answer["saved"]["spans"][0] == {"start": 0, "end": 15, "label": "PER"}
    answer = correct_tab.save_correction(ctx, "Nothing to see.", [], "api-set", "reject", token)
    assert (answer["texts"], answer["rejected"], answer["owner_token"]) == (2, 1, token)
    for entities, message in [([[0, 99, "PER"]], "outside the text"), ([[0, 9, "PER"], [6, 15, "LOC"]], "overlaps"),
                              ([[0, 9, "I-PER"]], "starts like an IOB tag")]:
        with pytest.raises(gr.Error, match=message):
            correct_tab.save_correction(ctx, "Peter Blackburn met Angela Merkel.", entities, "api-set", "accept", token)
    with pytest.raises(gr.Error, match="dataset name: empty"):
        correct_tab.save_correction(ctx, "Peter Blackburn.", [], " ", "accept", token)
    conll, jsonl = correct_tab.download(ctx, "api-set", "conll", token), correct_tab.download(ctx, "api-set", "jsonl", token)
    assert [s.tags for s in read_file(conll).sentences] == [["B-PER", "I-PER", "O", "B-PER", "I-PER", "O"]]
    assert len(Path(jsonl).read_text(encoding="utf-8").splitlines()) == 2
    with pytest.raises(gr.Error, match="No corrections dataset 'api-set' among yours"):
        correct_tab.download(ctx, "api-set", "jsonl", THEIRS)
    assert data_panel.corrections_choices(ctx, "", THEIRS).choices == [("none", "")]
    assert ("api-set", "api-set") in data_panel.corrections_choices(ctx, "", token).choices
    # the Fine-tune tab trains on it for its owner, and only for its owner
    form = train_tab.TrainForm(base_label="tiny", head="linear", epochs=1, corrections="api-set")
    with pytest.raises(Exception, match="at least 2 sentences"):  # one accepted sentence: the library's own check
        train_tab.prepare(ctx, form, token_owner(token))
    with pytest.raises(Exception, match="No corrections dataset 'api-set' among yours"):
        train_tab.prepare(ctx, form, token_owner(THEIRS))


def test_correct_tab_train_continues_the_model_and_reports_before_and_after(ctx: AppContext) -> None:
    token = "r" * 32
    with pytest.raises(gr.Error, match="'retrain' is empty"):
        correct_tab.train(ctx, "retrain", "tiny", 1, token)
    correct_tab.save_correction(ctx, "Nothing to see.", [], "retrain", "reject", token)
    with pytest.raises(gr.Error, match="only rejected texts"):
        correct_tab.train(ctx, "retrain", "tiny", 1, token)
    for i in range(10):
        text = f"Angela Merkel visited Paris on day {i}."
        correct_tab.save_correction(ctx, text, [[0, 13, "PER"], [22, 27, "CITY"]], "retrain", "accept", token)
    with pytest.raises(gr.Error, match="Unknown model 'my-run'"):
        correct_tab.train(ctx, "retrain", "my-run", 1, token)
    status, job_id, timer = correct_tab.train(ctx, "retrain", "tiny", 1, token)
    assert timer.active and job_id
    owner = token_owner(token)
    wait_for(lambda: ctx.jobs.get(job_id, owner).finished, 300, what="the correction job")
    status, timer, models = correct_tab.poll(ctx, job_id, "tiny", token)
    assert ctx.jobs.get(job_id, owner).state == "done", status
    record = read_record(ctx.runs.find(job_id, owner).path)
    assert record.before is not None and record.dev is not None and "B-CITY" in record.labels and "B-LOC" in record.labels
    assert record.config["init_from"].endswith("tiny") and record.dev_sentences == 2  # 20% of 10 texts held out
    assert f"{record.before['f1']:.1f} → {record.dev['f1']:.1f}" in status and timer.active is False
    assert ctx.runs.find(job_id, owner).name in models.choices[0] or any(ctx.runs.find(job_id, owner).name in c for c in models.choices)
