"""demo.ui.train_tab handlers, called directly with an AppContext (no server). The training run
itself goes through the real worker process on the tiny base, and must learn (tests/learning.py):
from one file, from several files of two formats, and continuing the shipped default."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import gradio as gr
import pytest
from learning import assert_learned, assert_loss_fell, micro_f1
from support import DEFAULT_MODEL, DEV_FILE, TINY_TRAIN, TRAIN_FILE, app_settings, needs_default, wait_for

from demo.service.app_context import AppContext
from demo.service.owners import identify
from demo.ui import train_tab

pytestmark = pytest.mark.app


@pytest.fixture(scope="module")
def ctx(tiny_base: Path, tiny_tagger: Path, tmp_path_factory: pytest.TempPathFactory):
    context = AppContext(app_settings(tmp_path_factory.mktemp("train-tab"), tiny_base, tiny_tagger, prewarm_worker=False))
    yield context
    context.close()


def prepare(ctx: AppContext, train=TRAIN_FILE, dev=DEV_FILE, **changes):
    return train_tab.prepare(ctx, train_tab.TrainForm(train, dev, **dict(TINY_TRAIN, **changes)))


def test_train_tab_inspect_reports_the_upload(ctx: AppContext) -> None:
    hint, picker, labels = train_tab.inspect(ctx, None, None, -1)
    assert hint == train_tab.UPLOAD_HINT and picker.visible is False and labels.empty
    report, picker, labels = train_tab.inspect(ctx, str(TRAIN_FILE), str(DEV_FILE), "")
    assert "40 sentences" in report and "dev file" in report
    assert picker.visible and picker.value == 3 and len(picker.choices) == 3
    assert dict(labels.values.tolist()) == {"PER": 40, "LOC": 31, "ORG": 28, "MISC": 5}
    assert train_tab.data_report(ctx, str(TRAIN_FILE), None)[0].count("held out") == 1


def test_train_tab_inspect_explains_bad_data(ctx: AppContext, tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text("one\ncolumn\n", encoding="utf-8")
    with pytest.warns(UserWarning):  # gr.Warning outside a request
        report, _, labels = train_tab.inspect(ctx, str(bad), None, -1)
    assert report.startswith("❌") and "line 1" in report and labels.empty


def test_train_tab_prepare_builds_a_checked_config(ctx: AppContext) -> None:
    checked = prepare(ctx)
    assert checked.config.base == ctx.settings.bases["tiny"] and checked.config.head == "linear"
    assert checked.config.epochs == 8 and checked.max_positions == 128 and checked.data.dev_report is not None
    assert checked.labels[0] == "O" and len(checked.labels) == 9


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"train": None}, "Upload a training file first"),
        ({"base_label": "../../etc"}, "Unknown base model '../../etc'; choose one of: tiny"),
        ({"max_length": 256}, "limit of 128 positions"),
        ({"epochs": "many"}, "epochs must be a whole number"),
        ({"lr": 1.0}, "lr must be in"),
        ({"label_column": 7}, "label column 7 does not exist"),
    ],
)
def test_train_tab_prepare_refuses_bad_settings(ctx: AppContext, changes: dict, message: str) -> None:
    from tagger.errors import TaggerError

    with pytest.raises(TaggerError, match=message):
        prepare(ctx, **changes)


@needs_default
def test_train_tab_continue_default_is_a_continued_run(ctx: AppContext, tmp_path: Path) -> None:
    """Continuing the default continues it (init_from): its own head, its labels grown by the data's new ones,
    its gentler learning rate shown in the form; plain labels (POS) cannot continue an entity tagger."""
    from tagger.errors import TaggerError

    assert train_tab.CONTINUE_DEFAULT in train_tab.base_choices(ctx)
    checked = prepare(ctx, base_label=train_tab.CONTINUE_DEFAULT, head="linear")
    assert checked.config.init_from == str(DEFAULT_MODEL) and checked.config.head == "casing"  # the default's own head
    drugs = tmp_path / "drug.conll"
    drugs.write_text("Take O\naspirin B-DRUG\nnow O\n\nJohn B-PER\nleft O\n\n" * 5, encoding="utf-8")
    grown = prepare(ctx, train=drugs, dev=None, base_label=train_tab.CONTINUE_DEFAULT)
    assert "B-DRUG" in grown.summary and grown.config.dev_fraction == 0.2
    _, lr = train_tab.base_changed(ctx, train_tab.CONTINUE_DEFAULT, 128, train_tab.FRESH_LR)
    assert lr == train_tab.CONTINUED_LR  # the form shows the rate the continued run will use
    assert train_tab.base_changed(ctx, train_tab.CONTINUE_DEFAULT, 128, 3e-4)[1] == gr.skip()  # the user's own rate stays
    pos = tmp_path / "pos.conll"
    pos.write_text("Angela NNP\nsaid VBD\n\nJohn NNP\nleft VBD\n", encoding="utf-8")
    with pytest.raises(TaggerError):
        prepare(ctx, train=pos, dev=None, base_label=train_tab.CONTINUE_DEFAULT)


def test_train_tab_max_length_follows_the_base(ctx: AppContext) -> None:
    assert train_tab.max_length_limit(ctx, "tiny") == 128
    assert train_tab.max_length_limit(ctx, "no such base") == train_tab.SLIDER_MAX_LENGTH
    slider, lr = train_tab.base_changed(ctx, "tiny")
    assert slider.maximum == 128 and slider.value == 128 and lr == train_tab.FRESH_LR


def test_train_tab_train_streams_progress_and_registers_the_model(ctx: AppContext) -> None:
    request = SimpleNamespace(username=None)
    progress_calls: list[float] = []
    form = train_tab.TrainForm(str(TRAIN_FILE), str(DEV_FILE), **TINY_TRAIN)
    outputs = list(train_tab.train(ctx, form, "", request, lambda fraction, desc="": progress_calls.append(fraction)))
    status, loss, f1, scores, zip_path, name, job_id, token = outputs[-1]
    owner = identify(token).owner
    assert status.startswith("✓ Done") and name in ctx.registry.names(owner) and Path(zip_path).is_file()
    assert len(f1) == 8 and not loss.empty and "micro avg" in scores.data["type"].tolist()
    assert_learned(micro_f1(scores), "train()'s scores table")
    assert_loss_fell(loss["loss"].tolist(), "train()'s loss plot")
    assert f1["dev F1"].max() == pytest.approx(micro_f1(scores), abs=0.05)  # the plot's best epoch is the model kept
    assert len(outputs) >= 3 and max(progress_calls) > 0.5
    assert all(o[6] == job_id and o[7] == token for o in outputs)  # the job id and owner token from the first answer
    assert train_tab.cancel(ctx, job_id, token, request).startswith("Training had already finished")
    with pytest.raises(gr.Error, match="among yours"):
        train_tab.cancel(ctx, job_id, "z" * 32, request)  # not this caller's job
    assert train_tab.status(ctx, job_id, token, request)["state"] == "done"
    # a page opened later draws the same finished job, once
    drawn = train_tab.poll(ctx, token, None, request)
    assert drawn[0].startswith("✓ Done") and drawn[5] == name and drawn[6] == [job_id, ctx.jobs.get(job_id, owner).version, "done"]
    assert all(isinstance(v, type(gr.skip())) for v in train_tab.poll(ctx, token, drawn[6], request)[:6])


def test_train_tab_start_returns_at_once_and_the_timer_follows(ctx: AppContext) -> None:
    request = SimpleNamespace(username=None)
    shown = train_tab.start(ctx, train_tab.TrainForm(str(TRAIN_FILE), str(DEV_FILE), **TINY_TRAIN), "", request)
    token = shown[7]
    assert shown[0].startswith(("Waiting", "Starting")) and shown[6] is None and len(token) == 32
    assert train_tab.status(ctx, "", token, request)["state"] in ("queued", "running")
    wait_for(lambda: train_tab.status(ctx, "", token, request)["state"] in ("done", "failed"), 300, what="the job")
    state = train_tab.status(ctx, "", token, request)
    assert state["state"] == "done", state["error"]
    assert_learned(state["dev"]["f1"], "the started job")
    assert_loss_fell(state["loss"], "the started job's loss points")
    drawn = train_tab.poll(ctx, token, None, request)
    assert drawn[0].startswith("✓ Done") and micro_f1(drawn[3]) == pytest.approx(state["dev"]["f1"], abs=0.05)
    assert train_tab.cancel_mine(ctx, token, request) == "No training job of yours is running."
    with pytest.raises(gr.Error, match="You have no training job"):
        train_tab.status(ctx, "", "y" * 32, request)


def test_train_tab_refused_job_is_a_user_error(ctx: AppContext, monkeypatch: pytest.MonkeyPatch) -> None:
    from demo.service.job_queue import JobRefused

    def refuse(*args, **kwargs):
        raise JobRefused("Cannot start training: the training queue is full (4 jobs waiting); try again later.")

    monkeypatch.setattr(ctx.jobs, "submit", refuse)
    gen = train_tab.train(ctx, train_tab.TrainForm(str(TRAIN_FILE), str(DEV_FILE), **TINY_TRAIN), "", SimpleNamespace(username=None))
    with pytest.raises(gr.Error, match="the training queue is full"):
        next(gen)


def test_train_tab_storage_note(ctx: AppContext) -> None:
    assert "close this page" in train_tab.storage_note(ctx) and "lost" not in train_tab.storage_note(ctx)
    ctx.settings.persistent_runs, ctx.settings.private_runs = False, True
    try:
        note = train_tab.storage_note(ctx)
        assert "Runs are lost when this Space restarts" in note and "zip" in note and "private" in note
    finally:
        ctx.settings.persistent_runs, ctx.settings.private_runs = True, False


def run_to_the_end(ctx: AppContext, form: train_tab.TrainForm) -> tuple[dict, str, str]:
    """Start ``form`` as the Start button does and wait for the job -> (its /status, model name, owner token)."""
    request = SimpleNamespace(username=None)
    token = train_tab.start(ctx, form, "", request)[7]
    wait_for(lambda: train_tab.status(ctx, "", token, request)["state"] in ("done", "failed", "cancelled"), 600, what="the job")
    state = train_tab.status(ctx, "", token, request)
    assert state["state"] == "done", state["error"]
    return state, train_tab.poll(ctx, token, None, request)[5], token


def test_train_tab_several_files_learn_as_one_data_set(ctx: AppContext, tmp_path: Path) -> None:
    """The training fixture split into two uploads of two formats (CoNLL, JSONL tokens/tags) trains as one
    data set: the model learns it as it learns the single file."""
    import json

    from demo.service.owners import identify
    from tagger.data import read_file

    sentences = read_file(TRAIN_FILE).sentences
    first, second = tmp_path / "part1.conll", tmp_path / "part2.jsonl"
    first.write_text("\n\n".join("\n".join(f"{w} {t}" for w, t in zip(s.words, s.tags)) for s in sentences[:20]) + "\n")
    second.write_text("".join(json.dumps({"tokens": s.words, "tags": s.tags}) + "\n" for s in sentences[20:]))
    form = train_tab.TrainForm(None, str(DEV_FILE), **TINY_TRAIN, train_files=[str(first), str(second)])
    state, name, token = run_to_the_end(ctx, form)
    assert_learned(state["dev"]["f1"], "two uploads")
    assert_loss_fell(state["loss"], "two uploads' loss points")
    meta = json.loads((ctx.registry.get(name, identify(token).owner).path / "tagger.json").read_text())
    assert meta["data_report"]["sentences"] == 40 and len(meta["data_report"]["sources"]) == 2


# Continuing the shipped default: a made-up drug name it tags MISC, which this data annotates as an ORG
# (and enough PER/LOC/MISC for the default's label set). 2 epochs at the default learning rate move it:
# measured 0.244 -> 0.027 mean loss, and "zelmoxin" B-MISC -> B-ORG in a sentence of a form it never saw.
DRUG = "zelmoxin"
UNSEEN = f"Doctors prescribed {DRUG} to patients ."


def drug_data(n: int, seed: int) -> str:
    import random

    rnd = random.Random(seed)
    names = [("Maria", "Lopez"), ("John", "Smith"), ("Olaf", "Berg"), ("Anna", "Weber"), ("Peter", "Novak"), ("Sara", "Cohen")]
    cities, orgs = ["Paris", "Berlin", "Madrid", "Rome", "Vienna", "Oslo"], ["Reuters", "Siemens", "Google", "Nokia"]
    out = []
    for i in range(n):
        (first, last), city, org = rnd.choice(names), rnd.choice(cities), rnd.choice(orgs)
        pairs = [
            [(first, "B-PER"), (last, "I-PER"), ("took", "O"), (DRUG, "B-ORG"), ("in", "O"), (city, "B-LOC"), (".", "O")],
            [(org, "B-ORG"), ("sells", "O"), (DRUG, "B-ORG"), ("to", "O"), ("doctors", "O"), ("in", "O"), (city, "B-LOC"), (".", "O")],
            [("The", "O"), ("German", "B-MISC"), (DRUG, "B-ORG"), ("trial", "O"), ("of", "O"), (org, "B-ORG"), ("ended", "O"), (".", "O")],
        ][i % 3]
        out.append("\n".join(f"{w} {t}" for w, t in pairs))
    return "\n\n".join(out) + "\n"


@pytest.mark.slow
@needs_default
def test_train_tab_continue_default_learns_the_data(ctx: AppContext, tmp_path: Path) -> None:
    from demo.ui import tag_tab

    def drug_label(model: str, token: str = "") -> str:
        value = tag_tab.tag(ctx, UNSEEN, model, token)[2]
        return next((e["entity"] for e in value["entities"] if UNSEEN[e["start"] : e["end"]] == DRUG), "O")

    assert drug_label("default") != "ORG"  # what the default makes of it before
    train, dev = tmp_path / "drug-train.conll", tmp_path / "drug-dev.conll"
    train.write_text(drug_data(24, 1))
    dev.write_text(drug_data(6, 2))
    form = train_tab.TrainForm(str(train), str(dev), base_label=train_tab.CONTINUE_DEFAULT, head="casing", epochs=2, lr=1.5e-4,
                               batch_size=8, max_length=64)
    _, name, token = run_to_the_end(ctx, form)
    assert drug_label(name, token) == "ORG"  # learned from the data, in a sentence unlike any it trained on
    assert drug_label("default") != "ORG"  # the default itself is untouched
    history = [h["loss"] for h in ctx.registry.record(name, identify(token).owner).history]
    assert len(history) == 2 and history[1] <= 0.5 * history[0], history
