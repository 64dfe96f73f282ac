"""The Correct tab: a model pre-annotates texts (pasted, or an uploaded file of any format
:mod:`tagger.inputs` reads; labels in it are ignored); the person fixes the entities and accepts
each text (or rejects or skips it); the accepted texts become a dataset of theirs
(:mod:`demo.service.corrections`), which they download (span JSONL, CoNLL) or train on: a job that
continues the chosen model (``TrainConfig.init_from``) on the corrections, 20% held out, and
reports dev F1 before -> after.

The editor is :mod:`demo.ui.correct_view` (HTML + a script that sends edit events); the pass over
the texts is :class:`demo.service.correct_session.CorrectSession`, kept in a ``gr.State``.

API (``owner_token`` last, as everywhere): ``/suggest`` (``text``, ``model``) -> entities
``[{start, end, label, score, text}]``; ``/save_correction`` (``text``, ``entities``, ``dataset``,
``answer``) -> the dataset's counts; ``/corrections`` (``dataset``, ``format``: jsonl | conll) ->
the file. Corrections are personal: another owner never lists, reads or trains on them.
"""

from __future__ import annotations

import secrets
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from demo.service.app_context import AppContext
from demo.service.correct_session import ORDERS, SPLITS, CorrectSession, read_file_texts, read_pasted, start_session
from demo.service.correction_spans import CorrectionError, check_dataset_name, suggestions
from demo.service.corrections import EXPORTS, CorrectionStore
from demo.service.job_queue import DONE, FAILED, JobError
from demo.service.runs import RunError
from tagger.config import TrainConfig
from tagger.errors import InputError, TaggerError
from tagger.preflight import preflight
from tagger.record import f1_of

from . import correct_view, render
from .identity import Identity, caller
from .plumbing import bind, reveal_file, user_errors

DEFAULT_DATASET = "corrections"
KEEP_EXPORTS = 8


def store(ctx: AppContext) -> CorrectionStore:
    """The corrections datasets beside the app's runs (one store per models folder)."""
    return CorrectionStore.at(ctx.runs.root)


def export_file(ctx: AppContext, owner: str | None, dataset: Any, fmt: Any = "jsonl") -> Path:
    """A corrections dataset exported to a fresh folder under the app's download folder (which
    Gradio may serve, and which goes with the app); the last few exports are kept."""
    folder = ctx.zip_dir / f"corrections-{secrets.token_hex(6)}"
    folder.mkdir(parents=True)
    try:
        path = store(ctx).export(owner, dataset, fmt, folder)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    old = sorted(ctx.zip_dir.glob("corrections-*"), key=lambda p: p.stat().st_mtime)[:-KEEP_EXPORTS]
    for gone in old:
        shutil.rmtree(gone, ignore_errors=True)
    return path


def _predict(ctx: AppContext, model: str, owner: str | None) -> Any:
    """``predict_batch`` of a model the caller may use (UnknownModel otherwise; ModelError: a broken folder)."""
    return ctx.registry.predictor(model, owner).predict_batch


def summary_md(ctx: AppContext, owner: str | None, dataset: Any) -> str:
    """One line on the chosen dataset: its counts, or that it is new."""
    try:
        name = check_dataset_name(dataset)
    except CorrectionError as err:
        return f"⚠ {render.md(err)}"
    if owner is None:
        return f"Dataset **{render.md(name)}**: nothing saved yet."
    summary = store(ctx).summary(owner, name)
    if not summary.texts:
        return f"Dataset **{render.md(name)}** is new: the texts you accept or reject are saved to it."
    labels = ", ".join(f"{render.md(k)} {v}" for k, v in sorted(summary.labels.items())) or "none"
    return (f"Dataset **{render.md(name)}**: {summary.texts} text{'s' if summary.texts != 1 else ''} "
            f"({summary.accepted} accepted, {summary.rejected} rejected) · entities per label: {labels}")


def _view(ctx: AppContext, session: CorrectSession | None) -> str:
    return correct_view.editor_html(session, ctx.settings.low_confidence, time.time_ns())


# ---------------------------------------------------------------------------------- handlers
@user_errors
def refresh(ctx: AppContext, model: str | None, dataset: str | None, owner_token: str = "",
            request: gr.Request | None = None) -> tuple[Any, ...]:
    """Page load: the caller's models and datasets (keeping the choices that still exist)."""
    owner = caller(owner_token, request).owner
    names = ctx.registry.names(owner)
    model = model if model in names else (names[0] if names else None)
    datasets = store(ctx).names(owner)
    if dataset not in datasets:  # a page opened again: the dataset last worked on
        dataset = store(ctx).newest(owner) or dataset or DEFAULT_DATASET
    choices = sorted({*datasets, dataset})
    return gr.Dropdown(choices=names, value=model), gr.Dropdown(choices=choices, value=dataset), summary_md(ctx, owner, dataset)


@user_errors
def load_texts(ctx: AppContext, model: str, dataset: str, upload: str | None, pasted: str, split: str, order: str,
               owner_token: str = "", request: gr.Request | None = None) -> tuple[Any, ...]:
    """Load texts (the file if there is one, else the pasted text) and show the first, pre-annotated."""
    owner = caller(owner_token, request).owner
    name = check_dataset_name(dataset)
    split = split if split in dict(SPLITS) else "paragraphs"
    items = read_file_texts(upload, split) if upload else read_pasted(pasted, split)
    if not items:
        raise CorrectionError("Paste some texts or upload a file first." if not upload else "The file holds no text to correct.")
    predict = _predict(ctx, model, owner)
    labels = render.model_types(list(ctx.registry.record(model, owner).labels))
    known = store(ctx).records(owner, name, must_exist=False) if owner else []
    labels += [lab for r in known for s in r["spans"] for lab in [s["label"]] if lab not in labels]
    session = start_session(model, name, items, list(dict.fromkeys(labels)), predict, order == "uncertain",
                            {r["id"] for r in known})
    session.suggest(predict)
    return session, _view(ctx, session), summary_md(ctx, owner, name), gr.Accordion(open=False)


def _apply(ctx: AppContext, session: CorrectSession, data: dict[str, Any], owner: str | None) -> bool:
    """One action on the session; True when the dataset changed."""
    op = data.get("op")
    if op == "add":
        session.add(data.get("start"), data.get("end"), data.get("label"))
    elif op == "relabel":
        session.relabel(data.get("start"), data.get("end"), data.get("label"))
    elif op == "remove":
        session.remove(data.get("start"), data.get("end"))
    elif op in ("accept", "reject", "skip"):
        if session.current is None:
            raise CorrectionError("all texts are done: load more texts (or undo)")
        session.decide(op, store(ctx), owner)
        session.suggest(_predict(ctx, session.model, owner))
        return op != "skip"
    elif op == "undo":
        session.undo(store(ctx), owner)
        session.suggest(_predict(ctx, session.model, owner))
        return True
    else:
        raise CorrectionError(f"unknown action {str(op)[:20]!r}")
    return False


@user_errors
def act(ctx: AppContext, session: CorrectSession | None, owner_token: str = "", evt: gr.EventData = None,  # type: ignore[assignment]
        request: gr.Request | None = None) -> tuple[Any, ...]:
    """An action from the editor (``evt``: ``{op, start, end, label}``; ``op`` is add, relabel, remove,
    accept, reject, skip or undo). A refused action is said in the editor (and as a warning); the
    editor always gets a new value, so that its next action goes. (``evt`` is typed without ``| None``:
    Gradio passes the event data only to a parameter annotated with the class itself.)"""
    data = getattr(evt, "_data", None) or {}
    if session is None:
        gr.Warning("Load texts first.")
        return session, _view(ctx, None), gr.skip()
    owner = caller(owner_token, request).owner
    changed = False
    try:
        changed = _apply(ctx, session, data if isinstance(data, dict) else {}, owner)
    except TaggerError as err:
        session.note = f"⚠ {err}"
        session.version += 1
        gr.Warning(render.plain(err))
    return session, _view(ctx, session), summary_md(ctx, owner, session.dataset) if changed else gr.skip()


@user_errors
def choose_dataset(ctx: AppContext, dataset: str, session: CorrectSession | None, owner_token: str = "",
                   request: gr.Request | None = None) -> tuple[Any, ...]:
    """Another dataset: the next decisions are saved to it."""
    owner = caller(owner_token, request).owner
    text = summary_md(ctx, owner, dataset)
    if session is not None and not text.startswith("⚠"):
        session.dataset = check_dataset_name(dataset)
        session.note = f"decisions now go to {session.dataset!r}"
        session.version += 1
        return session, _view(ctx, session), text
    return session, gr.skip(), text


@user_errors
def choose_model(ctx: AppContext, model: str, session: CorrectSession | None, owner_token: str = "",
                 request: gr.Request | None = None) -> tuple[Any, ...]:
    """Another model: texts not yet edited or decided are suggested by it."""
    if session is None or not model or model == session.model:
        return session, gr.skip()
    owner = caller(owner_token, request).owner
    predict = _predict(ctx, model, owner)
    edited = {step["index"] for step in session.history}
    for i, item in enumerate(session.items):
        if not item.status and i not in edited:
            item.spans = None
    session.model = model
    session.add_labels(render.model_types(list(ctx.registry.record(model, owner).labels)))
    session.suggest(predict)
    session.note = f"suggestions now from {model!r}"
    session.version += 1
    return session, _view(ctx, session)


@user_errors
def download(ctx: AppContext, dataset: str, format: str = "jsonl", owner_token: str = "",
             request: gr.Request | None = None) -> str:
    """``/corrections``: one of the caller's corrections datasets as a file: ``jsonl`` (Prodigy-style
    span JSONL, every text with its answer) or ``conll`` (word and IOB2 tag, accepted texts)."""
    owner = caller(owner_token, request).owner
    return str(export_file(ctx, owner, dataset, format))


@user_errors
def suggest(ctx: AppContext, text: str, model: str, owner_token: str = "", request: gr.Request | None = None) -> list[dict[str, Any]]:
    """``/suggest``: the model's entities for ``text`` as offered for correction (snapped to words,
    no trailing punctuation): ``[{start, end, label, score, text}]``."""
    if not isinstance(text, str) or not text.strip():
        raise InputError("text: empty; pass the text to suggest entities for")
    predict = _predict(ctx, model, caller(owner_token, request).owner)
    return suggestions(predict([text])[0])


@user_errors
def save_correction(ctx: AppContext, text: str, entities: Any, dataset: str = DEFAULT_DATASET, answer: str = "accept",
                    owner_token: str = "", request: gr.Request | None = None) -> dict[str, Any]:
    """``/save_correction``: store ``text`` with its entities (``[{start, end, label}]``, snapped to
    words; the whole annotation of the text) in the caller's ``dataset``, as ``accept`` (trained on)
    or ``reject``. Returns the dataset's counts, the spans as saved, and the ``owner_token`` (a new
    one when none was given: keep it to find the dataset again)."""
    who = caller(owner_token, request, create=True)
    summary, record, _ = store(ctx).save(who.owner, dataset, text, entities, answer, source="api")
    return {**summary.to_json(), "saved": {"answer": record["answer"], "spans": record["spans"]}, "owner_token": who.token}


@user_errors
def train(ctx: AppContext, dataset: str, model: str, epochs: Any, owner_token: str = "",
          request: gr.Request | None = None) -> tuple[Any, ...]:
    """Queue a job that continues ``model`` on the dataset (20% held out; F1 before -> after)."""
    owner = caller(owner_token, request).owner
    entry = ctx.registry.get(model, owner)  # the folder comes from the registry, for this caller only
    folder = ctx.zip_dir / f"corrections-{secrets.token_hex(6)}"
    folder.mkdir(parents=True)
    try:
        path, summary = store(ctx).training_file(owner, dataset, folder)
        config = TrainConfig(init_from=str(entry.path), epochs=int(epochs or TrainConfig.epochs),
                             threads=ctx.settings.worker_threads())
        checked = preflight(config, str(path))
        job = ctx.jobs.submit(owner, checked.config.to_dict(), str(path), None, train_name=f"{summary.name} (corrections)",
                              init_from=entry.name)
    finally:
        shutil.rmtree(folder, ignore_errors=True)  # the job keeps its own copy
    return job_status(ctx, job.id, owner), job.id, gr.Timer(active=True)


def job_status(ctx: AppContext, job_id: str, owner: str | None) -> str:
    """A correction job's status line; when done, dev F1 before -> after on the held-out part."""
    job = ctx.jobs.get(job_id, owner)
    snap = ctx.jobs.snapshot(job)
    if job.state == FAILED:
        return f"✗ Training failed: {render.md(job.error)}"
    if job.state != DONE:
        return f"{snap['status']}  \n*{render.md(snap['settings'])}*"
    try:
        record = ctx.runs.find(job.id, owner).record
        name = ctx.runs.find(job.id, owner).name
    except RunError:
        return "✓ Done (the run was renamed or removed since)."
    before, after = f1_of(record.before), record.dev_f1
    scores = (f"dev F1 **{before:.1f} → {after:.1f}** on the held-out 20% ({record.dev_sentences or '?'} sentences)"
              if before is not None and after is not None else f"dev F1 **{after if after is not None else '?'}**")
    return (f"✓ Done in {snap['seconds'] or 0:.0f} s: {scores}. The model **{render.md(name)}** is in the model pickers "
            "and the Runs tab.")


@user_errors
def poll(ctx: AppContext, job_id: str | None, model: str | None, owner_token: str = "",
         request: gr.Request | None = None) -> tuple[Any, ...]:
    """Page load and timer tick while a correction job runs (its id is kept in the browser): its status;
    once it ends, the model list with the new run."""
    owner = caller(owner_token, request).owner
    try:
        job = ctx.jobs.get(job_id, owner) if job_id else None
    except JobError:  # forgotten (the app restarted) or not this caller's
        job = None
    if job is None:
        return gr.skip(), gr.Timer(active=False), gr.skip()
    if not job.finished:
        return job_status(ctx, job_id, owner), gr.Timer(active=True), gr.skip()
    return job_status(ctx, job_id, owner), gr.Timer(active=False), gr.Dropdown(choices=ctx.registry.names(owner), value=model)


# ---------------------------------------------------------------------------------- layout
@dataclass
class CorrectTab:
    model: gr.Dropdown
    dataset: gr.Dropdown
    source: gr.Accordion
    order: gr.Radio
    upload: gr.File
    pasted: gr.Textbox
    split: gr.Radio
    load_btn: gr.Button
    editor: gr.HTML
    session: gr.State
    summary: gr.Markdown
    export_format: gr.Dropdown
    download_btn: gr.Button
    export_out: gr.File
    epochs: gr.Slider
    train_btn: gr.Button
    train_status: gr.Markdown
    job: gr.BrowserState  # the last correction job's id, kept in the browser (a reload shows it again)
    timer: gr.Timer


def _source_section(ctx: AppContext) -> tuple[Any, ...]:
    names = ctx.registry.names()
    with gr.Row():
        model = gr.Dropdown(choices=names, value=names[0] if names else None, label="Model (suggests the entities)",
                            allow_custom_value=True, elem_id="correct-model")
        dataset = gr.Dropdown(choices=[DEFAULT_DATASET], value=DEFAULT_DATASET, label="Dataset (yours; type a name for a new one)",
                              allow_custom_value=True, elem_id="correct-dataset")
    with gr.Accordion("Texts to correct", open=True, elem_id="correct-source") as source:
        with gr.Row(equal_height=True):
            pasted = gr.Textbox(label="Paste texts", lines=5, max_lines=12, scale=3, elem_id="correct-text",
                                placeholder="Paste texts here, or upload a file →")
            upload = gr.File(label="…or a file (text, JSONL, CSV, CoNLL, CoNLL-U, .spacy, zip; labels ignored)", type="filepath",
                             height=150, scale=2, elem_id="correct-file")
        with gr.Row():
            split = gr.Radio([(label, key) for key, label in SPLITS], value="paragraphs", label="Plain text is cut into",
                             elem_id="correct-split")
            order = gr.Radio([(label, key) for key, label in ORDERS], value="file", label="Order", elem_id="correct-order")
        load_btn = gr.Button("Load texts", variant="primary", elem_id="correct-load")
    return model, dataset, source, order, upload, pasted, split, load_btn


def build(ctx: AppContext) -> CorrectTab:
    """Lay the tab out (call inside ``gr.Tab``)."""
    model, dataset, source, order, upload, pasted, split, load_btn = _source_section(ctx)
    editor = gr.HTML(_view(ctx, None), js_on_load=correct_view.SCRIPT, css_template=correct_view.CSS, elem_id="correct-editor",
                     padding=False)
    summary = gr.Markdown("", elem_id="correct-summary")  # filled on page load, once the owner is known
    with gr.Row():
        with gr.Column(scale=1):
            export_format = gr.Dropdown([(label, key) for key, label in EXPORTS], value="jsonl", label="Download as",
                                        elem_id="correct-format")
            download_btn = gr.Button("Download the dataset", elem_id="correct-download")
        with gr.Column(scale=1):
            epochs = gr.Slider(1, 20, value=int(TrainConfig.epochs), step=1, label="Epochs", elem_id="correct-epochs")
            train_btn = gr.Button("Train on these corrections", variant="primary", elem_id="correct-train")
    export_out = gr.File(label="Corrections file", interactive=False, visible=False, height=80, elem_id="correct-export")
    train_status = gr.Markdown("Training continues the chosen model on the dataset's accepted texts (20% held out) and "
                               "reports dev F1 before → after.", elem_id="correct-train-status")
    job = gr.BrowserState("", storage_key="bert-tagger-correct-job")
    return CorrectTab(model, dataset, source, order, upload, pasted, split, load_btn, editor, gr.State(None), summary,
                      export_format, download_btn, export_out, epochs, train_btn, train_status, job, gr.Timer(1.0, active=False))


def wire(ctx: AppContext, ui: CorrectTab, blocks: gr.Blocks, who: Identity, loaded: Any) -> None:
    """Connect the tab's events (inside the ``gr.Blocks`` context); ``loaded`` sets the owner token."""
    quiet = {"api_visibility": "private"}
    loaded.then(bind(ctx, refresh), [ui.model, ui.dataset, who.token], [ui.model, ui.dataset, ui.summary], queue=False, **quiet)
    ui.load_btn.click(bind(ctx, load_texts), [ui.model, ui.dataset, ui.upload, ui.pasted, ui.split, ui.order, who.token],
                      [ui.session, ui.editor, ui.summary, ui.source], concurrency_limit=2, concurrency_id="tag", **quiet)
    ui.editor.act(bind(ctx, act), [ui.session, who.token], [ui.session, ui.editor, ui.summary], concurrency_limit=4,
                  concurrency_id="correct-act", show_progress="hidden", **quiet)
    ui.dataset.change(bind(ctx, choose_dataset), [ui.dataset, ui.session, who.token], [ui.session, ui.editor, ui.summary],
                      queue=False, **quiet)
    ui.model.input(bind(ctx, choose_model), [ui.model, ui.session, who.token], [ui.session, ui.editor], concurrency_limit=2,
                   concurrency_id="tag", **quiet)
    ui.download_btn.click(bind(ctx, download), [ui.dataset, ui.export_format, who.token], ui.export_out, api_name="corrections",
                          concurrency_limit=2).success(reveal_file, None, ui.export_out, queue=False, **quiet)
    ui.train_btn.click(bind(ctx, train), [ui.dataset, ui.model, ui.epochs, who.token], [ui.train_status, ui.job, ui.timer],
                       concurrency_limit=4, concurrency_id="submit", **quiet)
    for trigger in (ui.timer.tick, loaded.then):
        trigger(bind(ctx, poll), [ui.job, ui.model, who.token], [ui.train_status, ui.timer, ui.model], queue=False,
                show_progress="hidden", **quiet)
    gr.api(bind(ctx, suggest), api_name="suggest", concurrency_limit=2, concurrency_id="tag")
    gr.api(bind(ctx, save_correction), api_name="save_correction", concurrency_limit=4, concurrency_id="correct-act")
