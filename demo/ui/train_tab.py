"""The Fine-tune tab: upload data, see its report, set the training settings, train in a worker
process with live progress, cancel, download the model.

Handlers are module-level functions taking the :class:`~demo.service.app_context.AppContext` first; the
checks before training are :func:`tagger.preflight.preflight` (the CLI runs the same ones).
:func:`build` lays the tab out and returns :class:`TrainTab`; :func:`wire` connects events and
returns the training event (``app.py`` hangs the Tag tab's refresh on it). Public API:
``/data_report`` (``f``, ``d``: kept from the first version) and ``/train``.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from demo.service.app_context import AppContext
from demo.service.job_queue import DONE, FAILED, Job, JobError
from demo.service.owners import Caller
from demo.service.registry import DEFAULT_NAME
from demo.service.runs import RunError
from tagger.config import HEADS, INIT_FROM_DEFAULTS, TrainConfig
from tagger.errors import ConfigError, TaggerError, TrainingError
from tagger.meta import max_positions, resolve_base
from tagger.preflight import Preflight, preflight
from tagger.readers.base import parse_label_list

from . import data_panel, render
from .identity import Identity, caller
from .plumbing import bind, bind_form, named, user_errors

_PROGRESS = gr.Progress()  # Gradio injects a tracker where a parameter defaults to a Progress
CONTINUE_DEFAULT = "default tagger (continue training it)"
UPLOAD_HINT = data_panel.UPLOAD_HINT
SLIDER_MAX_LENGTH = 512


def as_int(value: Any, what: str) -> int:
    """``value`` as a whole number, or a ConfigError naming the setting.

    >>> as_int("3", "epochs")
    3
    """
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{what} must be a whole number, got {value!r}") from None


def as_float(value: Any, what: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{what} must be a number, got {value!r}") from None


def _column(label_column: Any) -> int | str:
    return data_panel.label_column_value(label_column)


def base_choices(ctx: AppContext) -> list[str]:
    """The "Start from" choices: the configured bases, plus the default tagger when there is one."""
    names = list(ctx.settings.bases)
    if DEFAULT_NAME in ctx.registry.names():
        names.append(CONTINUE_DEFAULT)
    return names


def _base_of(ctx: AppContext, base_label: Any) -> tuple[str, str | None]:
    """(base for TrainConfig, head the base dictates or None) of a "Start from" choice."""
    if base_label == CONTINUE_DEFAULT and DEFAULT_NAME in ctx.registry.names():
        return str(ctx.registry.get(DEFAULT_NAME).path), ctx.registry.record(DEFAULT_NAME).head or None
    if isinstance(base_label, str) and base_label in ctx.settings.bases:
        return ctx.settings.bases[base_label], None
    raise ConfigError(f"Unknown base model {str(base_label)[:80]!r}; choose one of: {', '.join(base_choices(ctx))}.")


# ---------------------------------------------------------------------------------- handlers
# the data section (uploads of any format, the report, the preview) lives in data_panel
inspect = data_panel.inspect
data_report = data_panel.data_report


@dataclass(frozen=True)
class TrainForm:
    """The Fine-tune tab's settings as the page or an API client sends them (raw values, checked once
    by :func:`prepare`), in the order of ``/train``'s parameters. A new setting is one field here and
    a component of the same name on :class:`TrainTab` (:func:`wire` pairs them by name)."""

    train_file: Any = None  # one file (the API's first parameter; the page uses train_files)
    dev_file: Any = None
    base_label: Any = None
    head: Any = TrainConfig.head
    epochs: Any = int(TrainConfig.epochs)  # plain values: the config's defaults are marked subclasses (init_from)
    lr: Any = float(TrainConfig.lr)
    batch_size: Any = TrainConfig.batch_size
    max_length: Any = TrainConfig.max_length
    label_column: Any = -1
    train_files: Any = None  # several files, any format (the page's upload)
    data_format: Any = "auto"
    label_names: Any = ""
    corrections: Any = ""  # one of the caller's corrections datasets (the Correct tab), read with the uploads


# /train's first version ended with owner_token after label_column; the settings added since follow it
OWNER_TOKEN_AFTER = "label_column"


def training_paths(ctx: AppContext, form: TrainForm, owner: str | None) -> list[str]:
    """The uploads, plus the chosen corrections dataset exported as JSONL."""
    return data_panel.upload_paths(form.train_file, form.train_files) + data_panel.corrections_paths(ctx, form.corrections, owner)


def prepare(ctx: AppContext, form: TrainForm, owner: str | None = None) -> Preflight:
    """The form's values -> a checked :class:`~tagger.preflight.Preflight` (raises TaggerError)."""
    paths = training_paths(ctx, form, owner)
    if not paths:
        raise TaggerError("Upload a training file first (or choose a corrections dataset).")
    fmt, names = data_panel.read_options(form.data_format, form.label_names)
    base, base_head = _base_of(ctx, form.base_label)
    # continuing the default is a continued run (init_from): its encoder, head, decoding and labels (grown by the
    # data's new ones), its gentler rates for what it knows, 20% held out for its F1 before -> after
    start = {"init_from": base} if form.base_label == CONTINUE_DEFAULT else {
        "base": base, "head": base_head or (form.head if form.head in HEADS else TrainConfig.head)}
    config = TrainConfig(
        **start, epochs=as_int(form.epochs, "epochs"), lr=as_float(form.lr, "learning rate"),
        batch_size=as_int(form.batch_size, "batch size"), max_length=as_int(form.max_length, "max length"),
        label_column=_column(form.label_column), data_format=fmt, label_names=parse_label_list(names) or (),
        threads=ctx.settings.worker_threads(),
    )
    return preflight(config, paths, str(form.dev_file) if form.dev_file else None)


def submit(ctx: AppContext, form: TrainForm, owner_token: Any, request: Any) -> tuple[Job, Caller]:
    """Check the settings and queue the job for its owner (a caller without a token gets one).
    Several training files travel to the job as one zip (read back as one data set)."""
    who = caller(owner_token, request, create=True)
    checked = prepare(ctx, form, who.owner)
    dev = str(form.dev_file) if form.dev_file else None
    paths = training_paths(ctx, form, who.owner)
    with data_panel.bundled(paths) as train_path:
        job = ctx.jobs.submit(who.owner, checked.config.to_dict(), train_path, dev, train_name=data_panel.uploads_name(paths),
                              dev_name=Path(dev).name if dev else None)
    return job, who


@user_errors
def start(ctx: AppContext, form: TrainForm, owner_token: str = "", request: gr.Request | None = None) -> tuple[Any, ...]:
    """Start button: queue the job and return at once (the page's timer follows it, :func:`poll`)."""
    job, who = submit(ctx, form, owner_token, request)
    return (*job_outputs(ctx, job, who.owner), None, who.token, who.token, *page_extras(ctx, job, who.owner))


@user_errors
def train(ctx: AppContext, form: TrainForm, owner_token: str = "", request: gr.Request | None = None,
          progress: gr.Progress = _PROGRESS) -> Any:
    """``/train``: queue a job and stream its progress until it ends: yields (status, loss plot, F1 plot,
    scores table, model zip, new model name, job id, owner token). The job runs on when the client goes
    away; ``/status`` with the job id and owner token follows it. Parameters: the fields of
    :class:`TrainForm` (``train_files``: several, any format; ``data_format``: a :data:`tagger.data.FORMATS`
    name; ``label_names``: for integer ids), with ``owner_token`` after ``label_column``."""
    job, who = submit(ctx, form, owner_token, request)
    yield from follow(ctx, job, who, progress)


def follow(ctx: AppContext, job: Job, who: Caller, progress: Any) -> Any:
    """Stream a job's progress while the caller listens; nothing here stops the job."""
    seen = -1
    while True:
        snap = ctx.jobs.snapshot(job)
        if snap["version"] != seen or job.finished:
            seen = snap["version"]
            progress(snap["progress"], desc=snap["status"])
            if job.finished:
                break
            yield (*job_outputs(ctx, job, who.owner, snap), job.id, who.token)
        time.sleep(1.0)  # events come once a second; waking more often would only take CPU from the job
    if job.state == FAILED:
        raise TrainingError(f"Training failed: {job.error}")
    yield (*job_outputs(ctx, job, who.owner), job.id, who.token)


def job_outputs(ctx: AppContext, job: Job, owner: str | None, snap: dict[str, Any] | None = None) -> tuple[Any, ...]:
    """(status, loss plot, F1 plot, scores table, model zip, new model name) of a job."""
    snap = snap or ctx.jobs.snapshot(job)
    scores, zip_path, name = render.scores_table_empty(), None, ""
    if job.state == DONE and job.result is not None:
        scores = render.scores_table(job.result["dev"])
        try:
            run = ctx.runs.find(job.id, owner)
        except RunError:  # renamed away, deleted, or evicted by the cap meanwhile
            run = None
        if run is not None:
            zip_path, name = str(ctx.zip_for(run)), run.name
    status = render.md(snap["status"]) if job.state == FAILED else snap["status"]
    if snap.get("settings") and not job.finished:  # a page opened again mid-job shows what it runs (its own paragraph)
        status += f"\n\n*Job {render.md(job.name)}: {render.md(snap['settings'])}*"
    return status, render.loss_frame(snap["loss"]), render.f1_frame(snap["dev_f1"]), scores, zip_path, name


@user_errors
def poll(ctx: AppContext, owner_token: str, seen: Any, request: gr.Request | None = None) -> tuple[Any, ...]:
    """Page load and timer tick: this browser's latest job (queued, running, or the last one
    finished), drawn again only when it changed; without a job of its own, what other users' jobs
    mean for one started now. -> (6 job outputs, what was drawn, then :func:`page_extras`)."""
    owner = caller(owner_token, request).owner
    job = ctx.jobs.latest(owner)
    key = None if job is None else [job.id, job.version, job.state]
    if job is None:
        return (*[gr.skip()] * 6, seen, *page_extras(ctx, None, owner))
    if key == seen and job.finished:
        return (*[gr.skip()] * 7, *[gr.skip()] * len(EXTRAS))
    if key == seen:  # no event since the last tick: only the time left moves
        return (*[gr.skip()] * 7, render.progress_bar(ctx.jobs.snapshot(job)), *[gr.skip()] * (len(EXTRAS) - 1))
    return (*job_outputs(ctx, job, job.owner), key, *page_extras(ctx, job, owner))


EXTRAS = ("progress bar", "Start button", "Cancel button", "other users' jobs", "rename row", "name box")


def page_extras(ctx: AppContext, job: Job | None, owner: str | None) -> tuple[Any, ...]:
    """What the page shows beyond ``/train``'s outputs (:data:`EXTRAS`): the progress bar with the
    time left, Start disabled while the caller's job is queued or running (Cancel only then), other
    users' jobs when the caller has none running, and the rename row of a finished run."""
    active = job is not None and not job.finished
    busy = "" if active else render.others_note(ctx.jobs.others(owner))
    name = ""
    if job is not None and job.state == DONE:
        try:
            name = ctx.runs.find(job.id, owner).name
        except RunError:  # renamed away, deleted, or evicted by the cap meanwhile
            name = ""
    bar = render.progress_bar(ctx.jobs.snapshot(job)) if job is not None else ""
    return (bar, gr.Button(interactive=not active, value="Training…" if active else "Start training"),
            gr.Button(interactive=active), busy, gr.Row(visible=bool(name)), gr.Textbox(value=name) if name else gr.skip())


@user_errors
def rename_run(ctx: AppContext, current: str, new_name: str, owner_token: str = "", request: gr.Request | None = None) -> tuple[str, str]:
    """The rename row under a finished run: -> (message, the run's name now, which the Tag and Runs
    tabs follow)."""
    run = ctx.registry.rename(current, new_name, caller(owner_token, request).owner)
    return f"Renamed to **{render.md(run.name)}**.", run.name


@user_errors
def cancel_mine(ctx: AppContext, owner_token: str = "", request: gr.Request | None = None) -> str:
    """Cancel button: this browser's queued or running job (nobody else's)."""
    return cancel(ctx, "", owner_token, request)


@user_errors
def cancel(ctx: AppContext, job_id: str = "", owner_token: str = "", request: gr.Request | None = None) -> str:
    """``/cancel``: stop the caller's job ``job_id`` (empty: their current one): cooperative, then
    terminate, then kill. Returns what happened."""
    owner = caller(owner_token, request).owner
    if not job_id:
        job = ctx.jobs.latest(owner)
        if job is None or job.finished:
            return "No training job of yours is running."
        job_id = job.id
    return ctx.jobs.cancel(job_id, owner)


@user_errors
def status(ctx: AppContext, job_id: str = "", owner_token: str = "", request: gr.Request | None = None) -> dict[str, Any]:
    """``/status``: a job's state and progress: state (queued, running, done, cancelled, failed),
    position in the queue, status line, progress 0..1, loss points [epoch, loss], dev F1 points
    [epoch, F1 %], device, precision, error, and at the end dev scores, best epoch and seconds.
    ``job_id`` empty: the caller's latest job. Only the owner sees a job."""
    owner = caller(owner_token, request).owner
    if job_id:
        return ctx.jobs.snapshot(ctx.jobs.get(job_id, owner))
    job = ctx.jobs.latest(owner)
    if job is None:
        raise JobError("You have no training job.")
    return ctx.jobs.snapshot(job)


def storage_note(ctx: AppContext) -> str:
    """What a user should know about where runs live (empty when nothing needs saying)."""
    notes = []
    if not ctx.settings.persistent_runs:
        notes.append("⚠ **Runs are lost when this Space restarts** (it has no persistent storage): download a run's zip "
                     "to keep it.")
    if ctx.settings.private_runs:
        notes.append("Your runs are private: only this browser (or your Hugging Face login) sees them.")
    notes.append("A job runs on the server to its end: you can close this page and come back later.")
    return "  \n".join(notes)


def max_length_limit(ctx: AppContext, base_label: str | None) -> int:
    """Positions the chosen base supports (capped at 512 for the slider)."""
    try:
        base, _ = _base_of(ctx, base_label)
        limit = max_positions(resolve_base(base))
    except TaggerError:
        limit = None
    return min(limit or SLIDER_MAX_LENGTH, SLIDER_MAX_LENGTH)


FRESH_LR, CONTINUED_LR = float(TrainConfig.lr), float(INIT_FROM_DEFAULTS["lr"])


@user_errors
def base_changed(ctx: AppContext, base_label: str, max_length: Any = None, lr: Any = None) -> tuple[Any, Any]:
    """The max-length slider follows the base's positions (the value chosen stays when it fits), and
    the learning rate the default of the choice (a fresh encoder, or a tagger continued more gently)
    unless the user set one of their own."""
    limit = max_length_limit(ctx, base_label)
    value = max_length if isinstance(max_length, int | float) and not isinstance(max_length, bool) else TrainConfig.max_length
    rate = CONTINUED_LR if base_label == CONTINUE_DEFAULT else FRESH_LR
    mine = isinstance(lr, int | float) and lr not in (FRESH_LR, CONTINUED_LR)
    return gr.Slider(maximum=limit, value=min(int(value), limit)), gr.skip() if mine else rate


# ---------------------------------------------------------------------------------- layout
@dataclass
class TrainTab:
    train_file: gr.File
    dev_file: gr.File
    report_md: gr.Markdown
    label_column: gr.Dropdown
    labels_df: gr.Dataframe
    base_label: gr.Dropdown
    head: gr.Radio
    epochs: gr.Slider
    lr: gr.Number
    batch_size: gr.Slider
    max_length: gr.Slider
    start_btn: gr.Button
    cancel_btn: gr.Button
    others_md: gr.Markdown  # other users' jobs, when the caller has none
    progress: gr.HTML  # the bar with the time left
    status: gr.Markdown
    loss_plot: gr.LinePlot
    f1_plot: gr.LinePlot
    scores_df: gr.Dataframe
    zip_out: gr.File
    rename_row: gr.Row  # under a finished run: its name, editable
    name_box: gr.Textbox
    rename_btn: gr.Button
    rename_msg: gr.Markdown
    model_name_out: gr.Textbox  # hidden: /train's "new model name"; the Tag, Runs and Evaluate tabs follow it
    job_id: gr.Textbox
    timer: gr.Timer
    seen: gr.State
    data: data_panel.DataExtras  # several files, the format, label names, the preview
    form_state: gr.BrowserState  # the form's values, kept by the browser (a reload gives them back)


def _settings_section(ctx: AppContext) -> tuple[Any, ...]:
    bases = base_choices(ctx)
    first_base = next(iter(ctx.settings.bases), None)
    with gr.Accordion("Settings", open=True):
        with gr.Row():
            base = gr.Dropdown(choices=bases, value=first_base, label="Start from", allow_custom_value=True, elem_id="train-base",
                               info="a base encoder, or continue the default tagger (its labels kept, new ones added)")
            head = gr.Radio(list(HEADS), value=TrainConfig.head, label="Head",
                            info="casing (default) adds a word-shape embedding and IOB2-constrained decoding (load its zip with trust_remote_code=True); linear is plain BertForTokenClassification")
        with gr.Row():
            epochs = named(gr.Slider(1, 20, value=int(TrainConfig.epochs), step=1, label="Epochs"))
            # a plain float: the default is a float subclass (TrainConfig marks unset fields), which the page would get as text
            lr = named(gr.Number(value=float(TrainConfig.lr), label="Learning rate", minimum=1e-6, maximum=1e-2))
            batch = named(gr.Slider(1, 128, value=TrainConfig.batch_size, step=1, label="Batch size"))
            # the server checks 16..512; the browser's maximum follows the chosen base
            limit = max_length_limit(ctx, first_base)
            max_len = named(gr.Slider(16, SLIDER_MAX_LENGTH, value=min(TrainConfig.max_length, limit), step=16,
                                      label="Max length (sub-tokens)", elem_id="max-length"))
    return base, head, epochs, lr, batch, max_len


def _results_section() -> tuple[Any, ...]:
    with gr.Row():
        start_btn = gr.Button("Start training", variant="primary", elem_id="train-button")
        cancel_btn = gr.Button("Cancel", variant="stop", interactive=False, elem_id="cancel-button")
    others_md = gr.Markdown("", label="Other users' jobs", show_label=False, elem_id="train-others")
    progress = gr.HTML("", label="Progress", elem_id="train-progress")
    status = gr.Markdown("", label="Training status", show_label=False, elem_id="train-status")
    with gr.Row():
        loss_plot = gr.LinePlot(render.loss_frame([]), x="epoch", y="loss", title="Training loss", label="Loss plot",
                                show_label=False, height=260, x_axis_format="~g", y_axis_format="~g", elem_id="loss-plot")
        f1_plot = gr.LinePlot(render.f1_frame([]), x="epoch", y="dev F1", title="Dev F1 per epoch (%)", label="Dev F1 plot",
                              show_label=False, height=260, y_lim=[0, 100], x_axis_format="~g", y_axis_format=".0f",
                              elem_id="f1-plot")
    scores_df = gr.Dataframe(value=render.scores_table_empty(), label="Dev scores per type (best epoch)", interactive=False,
                             wrap=True, column_widths=render.SCORE_WIDTHS, elem_id="scores-table")
    zip_out = gr.File(label="Download the model (.zip, Hugging Face format)", interactive=False, height=90, elem_id="model-zip")
    with gr.Row(visible=False, equal_height=False, elem_id="train-rename") as rename_row:
        name_box = gr.Textbox(label="Your new model's name (in the Tag tab, Runs and Evaluate pickers)", max_lines=1, scale=3,
                              info="edit it, then press Enter or click Rename", elem_id="train-new-name")
        rename_btn = gr.Button("Rename", scale=0, min_width=120, elem_id="train-rename-button")
    rename_msg = gr.Markdown("", label="Rename message", show_label=False, elem_id="train-rename-message")
    model_name_out = gr.Textbox(label="New model name", visible=False, elem_id="model-name")  # /train's output; tabs follow it
    job_id = gr.Textbox(visible=False, label="Job id")
    return (start_btn, cancel_btn, others_md, progress, status, loss_plot, f1_plot, scores_df, zip_out, rename_row, name_box,
            rename_btn, rename_msg, model_name_out, job_id)


def form_memory(ctx: AppContext) -> gr.BrowserState:
    """The browser's copy of the form (call at the page's top level, outside the tabs: a tab's
    components mount when it is first shown, and the page-load event must find the stored value)."""
    return gr.BrowserState({}, storage_key=FORM_KEY, secret=ctx.browser_secret)


def build(ctx: AppContext, form_state: gr.BrowserState | None = None) -> TrainTab:
    """Lay the tab out (call inside ``gr.Tab``); ``form_state``: :func:`form_memory`."""
    gr.Markdown(storage_note(ctx), elem_id="storage-note")
    (data, extras), settings, results = data_panel.build(), _settings_section(ctx), _results_section()
    # the page follows the owner's job by polling the server: closing the page never touches the job
    form_state = form_state if form_state is not None else form_memory(ctx)  # the settings, kept across reloads
    return TrainTab(*data, *settings, *results, gr.Timer(1.0), gr.State(None), extras, form_state)


# The settings (and the uploads) a reload of the page gives back: kept in the browser's local storage
FORM_KEY = "bert-tagger-train-form"
REMEMBERED = ("train_files", "dev_file", "data_format", "label_names", "corrections", "base_label", "head", "epochs", "lr",
              "batch_size", "max_length")


NUMBERS = {"epochs": int, "lr": float, "batch_size": int, "max_length": int}


def remember(*values: Any) -> dict[str, Any]:
    """The form's values (:data:`REMEMBERED`) as the browser keeps them. They come unprocessed (a
    number being typed is still text, which the component would refuse mid-edit): uploads are
    kept by their server path.

    >>> kept = remember([{"path": "/tmp/gradio/a/x.conll"}], None, "auto", "", "", "tiny", "linear", 3, "0.005", 8, "6")
    >>> kept["train_files"], kept["lr"], kept["max_length"]
    (['/tmp/gradio/a/x.conll'], 0.005, 6)
    """
    out = dict(zip(REMEMBERED, values))
    for name, kind in NUMBERS.items():
        try:
            out[name] = kind(float(out[name])) if out.get(name) not in (None, "") else None
        except (TypeError, ValueError):
            out[name] = None  # half-typed: not kept
    for name in ("train_files", "dev_file"):
        value = out.get(name)
        paths = [v.get("path") if isinstance(v, dict) else v for v in (value if isinstance(value, list) else [value])]
        paths = [p for p in paths if isinstance(p, str) and p]
        out[name] = paths if name == "train_files" else (paths[0] if paths else None)
    return out


def _upload(path: Any, folder: Path) -> str | None:
    """A remembered upload, only if it is still a file in Gradio's upload folder (nothing else is served)."""
    try:
        resolved = Path(str(path)).resolve()
    except (OSError, ValueError):
        return None
    return str(resolved) if resolved.is_file() and resolved.is_relative_to(folder) else None


def restore(stored: Any) -> tuple[Any, ...]:
    """Page load: the remembered values back into the form (uploads that Gradio has since removed
    from its cache are dropped; a value the form would refuse is left as it is)."""
    from gradio.utils import get_upload_folder

    folder = Path(get_upload_folder()).resolve()
    stored = stored if isinstance(stored, dict) else {}
    out: list[Any] = []
    for name in REMEMBERED:
        value = stored.get(name)
        if name == "train_files":
            files = [f for f in (_upload(v, folder) for v in (value or []) if isinstance(value, list)) if f]
            out.append(files or gr.skip())
        elif name == "dev_file":
            out.append(_upload(value, folder) or gr.skip() if value else gr.skip())
        elif name in NUMBERS:
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            out.append(NUMBERS[name](value) if ok else gr.skip())
        else:
            out.append(value if isinstance(value, str) and value else gr.skip())
    return tuple(out)


def keep_form(ui: TrainTab, loaded: Any) -> None:
    """Remember the form in the browser on every change, and give it back on page load."""
    fields = [getattr(ui, n) if hasattr(ui, n) else getattr(ui.data, n) for n in REMEMBERED]
    quiet = {"queue": False, "api_visibility": "private", "show_progress": "hidden"}
    loaded.then(restore, ui.form_state, fields, **quiet)
    gr.on([f.change for f in fields], remember, fields, ui.form_state, preprocess=False, **quiet)


def form_inputs(ui: TrainTab, who: Identity) -> list[Any]:
    """The components behind :class:`TrainForm`'s fields (on the tab or its data section, by name),
    with the owner token where ``/train`` takes it."""
    out = []
    for f in dataclasses.fields(TrainForm):
        out.append(getattr(ui, f.name) if hasattr(ui, f.name) else getattr(ui.data, f.name))
        if f.name == OWNER_TOKEN_AFTER:
            out.append(who.token)
    return out


def wire(ctx: AppContext, ui: TrainTab, blocks: gr.Blocks, who: Identity, loaded: Any) -> None:
    """Connect the tab's events (call inside the ``gr.Blocks`` context). The Start button queues a
    job and returns; the timer (and the page load, ``loaded``) draw this browser's latest job."""
    data_panel.wire(ctx, ui.dev_file, ui.label_column, [ui.report_md, ui.label_column, ui.labels_df], ui.data, ui.train_file)
    for trigger in (loaded.then, ui.data.corrections.focus):  # the caller's corrections datasets (saved meanwhile too)
        trigger(bind(ctx, data_panel.corrections_choices), [ui.data.corrections, who.token], ui.data.corrections, queue=False,
                api_visibility="private")
    ui.data.corrections.input(bind(ctx, data_panel.inspect_corrections),
                              [ui.train_file, ui.dev_file, ui.label_column, ui.data.train_files, ui.data.data_format,
                               ui.data.label_names, ui.data.corrections, who.token], [ui.report_md, ui.label_column, ui.labels_df],
                              api_visibility="private", concurrency_limit=4, concurrency_id="inspect")
    keep_form(ui, loaded)
    for trigger in (ui.base_label.change, blocks.load):
        trigger(bind(ctx, base_changed), [ui.base_label, ui.max_length, ui.lr], [ui.max_length, ui.lr], queue=False,
                api_visibility="private")
    settings = form_inputs(ui, who)
    shown = [ui.status, ui.loss_plot, ui.f1_plot, ui.scores_df, ui.zip_out, ui.model_name_out]
    extras = [ui.progress, ui.start_btn, ui.cancel_btn, ui.others_md, ui.rename_row, ui.name_box]
    ui.start_btn.click(bind_form(ctx, start, TrainForm, OWNER_TOKEN_AFTER), settings, [*shown, ui.seen, who.token, who.state, *extras],
                       api_visibility="private", concurrency_limit=4, concurrency_id="submit")
    # /train for API clients: the same job, its progress streamed while the client listens (a hidden trigger)
    api = gr.Button(visible=False)
    # as many streams as jobs can be running or waiting; more wait in Gradio's request queue
    follow_limit = ctx.settings.train_parallel + ctx.settings.train_queue
    api.click(bind_form(ctx, train, TrainForm, OWNER_TOKEN_AFTER), settings, [*shown, ui.job_id, who.token], api_name="train",
              concurrency_limit=follow_limit, concurrency_id="train-follow")
    for trigger in (ui.timer.tick, loaded.then):
        trigger(bind(ctx, poll), [who.token, ui.seen], [*shown, ui.seen, *extras], queue=False, show_progress="hidden",
                api_visibility="private")
    for trigger in (ui.rename_btn.click, ui.name_box.submit):
        trigger(bind(ctx, rename_run), [ui.model_name_out, ui.name_box, who.token], [ui.rename_msg, ui.model_name_out],
                queue=False, api_visibility="private")
    ui.cancel_btn.click(bind(ctx, cancel_mine), who.token, ui.status, queue=False, api_visibility="private")
    gr.api(bind(ctx, cancel), api_name="cancel", queue=False)
    gr.api(bind(ctx, status), api_name="status", queue=False)
