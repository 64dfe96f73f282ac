"""The Tag tab's "Tag a file" panel: upload a file of unlabeled documents (any format
:mod:`tagger.inputs` reads), see its first records, tag it with the tab's model and confidence
threshold in a background job on the server (:class:`demo.service.file_jobs.FileJobs`: a closed page does
not stop it, and only its owner sees or cancels it), follow its progress with the time left, cancel it,
and download the result in every output format (one pass of the model writes them all).

Public API: ``/tag_file`` (``file``, ``model``, ``threshold``, ``output_format``, ``text_field``,
``text_column``, ``lines``, ``owner_token`` -> the tagged file), synchronous, its progress streamed.
Handlers are module-level functions taking the :class:`~demo.service.app_context.AppContext` first;
:func:`build` lays the panel out (inside the Tag tab), :func:`wire` connects it.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from demo.service.app_context import AppContext
from demo.service.file_jobs import CANCELLED, DONE, FAILED, QUEUED, RUNNING, FileJob, FileOptions, FileRefused, check_size
from demo.service.progress import about
from tagger.bulk import check_threshold, preview
from tagger.errors import TaggerError
from tagger.outputs import OUTPUT_FORMATS, output_format

from . import render
from .identity import Identity, caller
from .plumbing import bind, user_errors

_PROGRESS = gr.Progress()  # Gradio injects a tracker where a parameter defaults to a Progress
PREVIEW_COLUMNS = ["id", "where", "text"]
RESULT_COLUMNS = ["id", "text", "entities (score)"]
PREVIEW_ROWS = 5
UPLOAD_FIRST = "Upload a file to tag first."
FOLLOW_S = 0.5  # how often /tag_file reports its progress to an API client


# ---------------------------------------------------------------------------------- pure helpers
def app_message(err: BaseException | str) -> str:
    """A library message in the panel's words (its options, not the command line's).

    >>> app_message('a.jsonl, line 1: no "text" field; the record has id, body (choose the text field with --text-field)')
    'a.jsonl, line 1: no "text" field; the record has id, body (choose the text field in "Text field", text_field in the API)'
    """
    return (str(err).replace("with --text-field", 'in "Text field", text_field in the API')
            .replace("with --text-column", 'in "Text column", text_column in the API'))


def upload_path(upload: Any) -> Path | None:
    """The server path of an upload (a path, or Gradio's file dict), None without one."""
    value = upload.get("path") if isinstance(upload, dict) else getattr(upload, "path", upload)
    return Path(value) if isinstance(value, str | Path) and str(value) else None


def options(text_field: Any, text_column: Any, lines: Any) -> FileOptions:
    return FileOptions(str(text_field or "text"), str(text_column or "text"), bool(lines))


def result_rows(records: list[dict[str, Any]], chars: int = 160) -> list[list[str]]:
    """The first tagged records (the ``.jsonl`` output's) as table rows: id, text, entities with scores.

    >>> result_rows([{"id": "a.jsonl:1", "text": "Ann met Bo.", "spans": [{"text": "Ann", "label": "PER", "score": 0.91}]}])
    [['a.jsonl:1', 'Ann met Bo.', 'Ann · PER (0.91)']]
    """
    rows = []
    for rec in records:
        text = str(rec.get("text", ""))
        spans = "; ".join(f"{s['text']} · {s['label']} ({s['score']:.2f})" for s in rec.get("spans", []))
        rows.append([str(rec.get("id", "")), text if len(text) <= chars else text[: chars - 1] + "…", spans or "–"])
    return rows


def progress_text(snap: dict[str, Any]) -> str:
    """Where a file job is, in words (the bar's label; ``/tag_file``'s progress description).

    >>> progress_text({"state": "running", "phase": "tagging", "progress": 0.5, "eta_s": 130.0, "documents_done": 10,
    ...                "documents_total": 20})
    '50% · 10 of 20 documents · about 2 min left'
    >>> progress_text({"state": "queued", "position": 2, "progress": 0})
    'waiting: 1 file ahead'
    """
    state, fraction = snap.get("state"), float(snap.get("progress") or 0)
    if state == QUEUED:
        ahead = (snap.get("position") or 1) - 1
        return f"waiting: {ahead} file{'s' if ahead != 1 else ''} ahead" if ahead else "starting…"
    if state == RUNNING and snap.get("phase") != "tagging":
        return "reading the file through…"
    if state == RUNNING:
        eta = snap.get("eta_s")
        return (f"{fraction:.0%} · {snap.get('documents_done', 0):,} of {snap.get('documents_total', 0):,} documents · "
                + (f"{about(eta)} left" if eta is not None else "estimating the time left…"))
    if state == DONE:
        return f"done in {render.duration(snap.get('seconds'))}"
    return str(state)


def progress_html(snap: dict[str, Any] | None) -> str:
    """A file job's progress bar with :func:`progress_text` (HTML; empty without a job).

    >>> progress_html({"state": "done", "progress": 1.0, "seconds": 75})
    '<div class="job-progress"><progress value="1" max="1"></progress><span>done in 1 min 15 s</span></div>'
    """
    if not snap:
        return ""
    fraction = float(snap.get("progress") or 0)
    return f'<div class="job-progress"><progress value="{fraction:.4g}" max="1"></progress><span>{html.escape(progress_text(snap))}</span></div>'


def status_line(snap: dict[str, Any] | None) -> str:
    """One line of markdown: what the job does or did."""
    if not snap:
        return ""
    what = f"**{render.md(snap['file'])}** with `{render.md(snap['model'])}`" + (
        f" (threshold {snap['threshold']:g})" if snap.get("threshold") else "")
    state = snap["state"]
    if state in (QUEUED, RUNNING):
        return f"Tagging {what}… The job runs on the server: you can close this page and come back."
    if state == CANCELLED:
        return f"Cancelled {what}; no output was written."
    if state == FAILED:
        return f"⚠ Tagging {what} failed: {render.md(app_message(snap['error']))}"
    s = snap["summary"] or {}
    dropped = f"; {s['dropped']:,} scored below the threshold left out" if s.get("dropped") else ""
    warned = "".join(f"  \n⚠ {render.md(w)}" for w in s.get("warnings", [])[:3])
    return (f"✓ Tagged {what}: {s.get('documents', 0):,} documents, {s.get('words', 0):,} words, {s.get('entities', 0):,} "
            f"entities{dropped}, in {render.duration(s.get('seconds'))} ({s.get('words', 0) / max(s.get('seconds') or 1e-9, 1e-9):,.0f} "
            f"words/s). Download every format below.{warned}")


# ---------------------------------------------------------------------------------- checks
def validate_threshold(threshold: Any) -> dict[str, Any]:
    try:
        check_threshold(threshold)
        return gr.validate(True, "")
    except TaggerError as err:
        return gr.validate(False, str(err))


def file_problem(ctx: AppContext, upload: Any, text_field: Any, text_column: Any, lines: Any) -> tuple[str, str] | None:
    """What is wrong with the upload, and which input it concerns (``file``, ``text_field``,
    ``text_column``), from the checks that need little reading: size, empty, binary, format, the first
    document (its text field or column). None: it can be tagged."""
    path = upload_path(upload)
    if path is None:
        return "file", UPLOAD_FIRST
    opts = options(text_field, text_column, lines)
    try:
        check_size(path, ctx.tagging.files.limits, path.name)
        preview(path, 1, text_field=opts.text_field, text_column=opts.text_column, lines=opts.lines,
                max_bytes=ctx.tagging.files.limits.max_bytes)
    except TaggerError as err:
        message = app_message(err)
        which = "text_field" if "Text field" in message else "text_column" if "Text column" in message else "file"
        return which, message
    return None


def _marks(problem: tuple[str, str] | None, names: tuple[str, ...]) -> list[dict[str, Any]]:
    return [gr.validate(problem is None or problem[0] != n, problem[1] if problem and problem[0] == n else "") for n in names]


def check_start(ctx: AppContext, upload: Any, model: Any, threshold: Any, text_field: Any = "text", text_column: Any = "text",
                lines: Any = False, owner_token: Any = "") -> tuple[Any, ...]:
    """Validator of Start: no file, a bad file or option, no model, a threshold outside 0..1, said at the input."""
    problem = file_problem(ctx, upload, text_field, text_column, lines)
    file_mark, field_mark, column_mark = _marks(problem, ("file", "text_field", "text_column"))
    return (file_mark, gr.validate(bool(model), "Choose a model first."), validate_threshold(threshold), field_mark, column_mark,
            gr.validate(True, ""), gr.validate(True, ""))


def check_api(ctx: AppContext, file: Any, model: Any, threshold: Any = 0.0, output_format: Any = "jsonl", text_field: Any = "text",
              text_column: Any = "text", lines: Any = False, owner_token: Any = "") -> tuple[Any, ...]:
    """Validator of ``/tag_file``: as :func:`check_start`, and the output format."""
    try:
        output_format_ok, message = True, ""
        output_format_name(output_format)
    except TaggerError as err:
        output_format_ok, message = False, str(err)
    marks = check_start(ctx, file, model, threshold, text_field, text_column, lines, owner_token)
    return (*marks[:3], gr.validate(output_format_ok, message), *marks[3:])


def output_format_name(value: Any) -> str:
    """An output format's name (``jsonl``, ``.csv``, ``label-studio`` ...), else a TaggerError listing them.

    >>> output_format_name(".CSV"), output_format_name("label-studio")
    ('csv', 'json')
    """
    try:
        return output_format(None, str(value or "jsonl"))
    except TaggerError:
        raise FileRefused(f"unknown output format {value!r}; expected one of: {', '.join(OUTPUT_FORMATS)} (json: Label Studio)") from None


# ---------------------------------------------------------------------------------- handlers

@user_errors
def inspect(ctx: AppContext, upload: Any, text_field: Any = "text", text_column: Any = "text", lines: Any = False) -> tuple[Any, ...]:
    """An upload (or a changed option) -> (preview of the first records, a line on the file or what is wrong
    with it, and which options apply: the text field for JSON, the text column for CSV/TSV, one document
    per line for plain text; shown as soon as the format is known, so that a wrong field can be put right)."""
    path = upload_path(upload)
    if path is None:
        return render.empty_table(PREVIEW_COLUMNS), "", gr.Textbox(visible=False), gr.Textbox(visible=False), gr.Checkbox(visible=False)
    opts, formats = options(text_field, text_column, lines), set()
    try:
        check_size(path, ctx.tagging.files.limits, path.name)
        formats = _formats(path)
        rows = preview(path, PREVIEW_ROWS, text_field=opts.text_field, text_column=opts.text_column, lines=opts.lines,
                       max_bytes=ctx.tagging.files.limits.max_bytes)
        table = pd.DataFrame([[r["id"], r["where"], r["text"]] for r in rows], columns=PREVIEW_COLUMNS)
        info = (f"**{render.md(path.name)}**: {', '.join(sorted(formats))}, {path.stat().st_size / 1e6:,.2f} MB; its first "
                f"{len(rows)} document(s) below.")
    except TaggerError as err:
        table, info = render.empty_table(PREVIEW_COLUMNS), f"⚠ {render.md(app_message(err))}"
    return (table, info, gr.Textbox(visible=bool(formats & {"jsonl", "json"})), gr.Textbox(visible=bool(formats & {"csv", "tsv"})),
            gr.Checkbox(visible="text" in formats))


def _formats(path: Path) -> set[str]:
    """The input formats of the file (a zip: of its members)."""
    from tagger.inputs import Documents

    docs = Documents(path)
    try:
        return {s.fmt for s in docs.sources}
    finally:
        docs.close()


def job_view(ctx: AppContext, job: FileJob | None, key: Any) -> tuple[Any, ...]:
    """What the panel shows of a job: (progress bar, status, first results, downloads, Start, Cancel,
    the timer, what was drawn)."""
    if job is None:
        return ("", "", render.empty_table(RESULT_COLUMNS), None, gr.Button(interactive=True), gr.Button(interactive=False),
                gr.Timer(active=False), key)
    snap = ctx.tagging.files.snapshot(job)
    active = not job.finished
    results = pd.DataFrame(result_rows(snap["first"]), columns=RESULT_COLUMNS) if snap["first"] else render.empty_table(RESULT_COLUMNS)
    files = [snap["outputs"][f] for f in OUTPUT_FORMATS if f in snap["outputs"]] or None
    return (progress_html(snap), status_line(snap), results, files, gr.Button(interactive=not active),
            gr.Button(interactive=active), gr.Timer(active=active), key)


@user_errors
def start(ctx: AppContext, upload: Any, model: str, threshold: float = 0.0, text_field: str = "text", text_column: str = "text",
          lines: bool = False, owner_token: str = "", request: gr.Request | None = None) -> tuple[Any, ...]:
    """Start button: queue the job (every output format) and return at once; the timer follows it."""
    owner = caller(owner_token, request).owner
    path = upload_path(upload)
    if path is None:
        raise FileRefused(UPLOAD_FIRST)
    job = ctx.tagging.files.submit(owner, ctx.registry.predictor(model, owner), path, model=model, threshold=threshold,
                                   options=options(text_field, text_column, lines))
    return job_view(ctx, job, [job.id, job.version, job.state])


@user_errors
def poll(ctx: AppContext, owner_token: str, seen: Any, request: gr.Request | None = None) -> tuple[Any, ...]:
    """Timer tick and page load: the caller's newest file job, redrawn when it changed (the bar alone
    otherwise: the time left moves)."""
    job = ctx.tagging.files.latest(caller(owner_token, request).owner)
    if job is None:
        return (*[gr.skip()] * 6, gr.Timer(active=False), seen)
    key = [job.id, job.version, job.state]
    if key == seen:
        bar = progress_html(ctx.tagging.files.snapshot(job)) if not job.finished else gr.skip()
        return (bar, *[gr.skip()] * 5, gr.Timer(active=not job.finished), seen)
    return job_view(ctx, job, key)


@user_errors
def cancel(ctx: AppContext, owner_token: str = "", request: gr.Request | None = None) -> str:
    """Cancel button: the caller's file job (nobody else's)."""
    return ctx.tagging.files.cancel(caller(owner_token, request).owner)


@user_errors
def tag_file(ctx: AppContext, file: Any, model: str, threshold: float = 0.0, output_format: str = "jsonl", text_field: str = "text",
             text_column: str = "text", lines: bool = False, owner_token: str = "", request: gr.Request | None = None,
             progress: gr.Progress = _PROGRESS) -> str:
    """``/tag_file``: tag a file with ``model`` and return the tagged file in ``output_format``
    (``jsonl``, ``csv``, ``conll``, ``spacy``, ``json`` = Label Studio). ``threshold``: entities scored
    below it are left out (in CoNLL their words become O); ``text_field`` (JSON), ``text_column`` (CSV/TSV),
    ``lines`` (plain text: one document per line). The job waits its turn with the page's jobs; the limits
    are the app's (``TAGGER_TAG_FILE_MAX_MB``, ``TAGGER_TAG_FILE_MAX_DOCS``)."""
    owner = caller(owner_token, request).owner
    fmt = output_format_name(output_format)
    path = upload_path(file)
    if path is None:
        raise FileRefused(UPLOAD_FIRST)
    job = ctx.tagging.files.submit(owner, ctx.registry.predictor(model, owner), path, model=model, threshold=threshold, formats=[fmt],
                                   options=options(text_field, text_column, lines))
    while not job.finished:
        snap = ctx.tagging.files.snapshot(job)
        progress(snap["progress"], desc=progress_text(snap))
        job.ended_event.wait(FOLLOW_S)
    if job.state != DONE:
        raise TaggerError(app_message(job.error) if job.state == FAILED else "Tagging was cancelled; no output was written.")
    return str(job.outputs[fmt])


# ---------------------------------------------------------------------------------- layout
@dataclass
class FilePanel:
    upload: gr.File
    text_field: gr.Textbox
    text_column: gr.Textbox
    lines: gr.Checkbox
    info: gr.Markdown
    preview: gr.Dataframe
    start_btn: gr.Button
    cancel_btn: gr.Button
    progress: gr.HTML
    status: gr.Markdown
    results: gr.Dataframe
    downloads: gr.File
    timer: gr.Timer
    seen: gr.State
    api_format: gr.Dropdown  # hidden: /tag_file's output format
    api_out: gr.File  # hidden: /tag_file's answer
    api_btn: gr.Button  # hidden trigger of /tag_file

    @property
    def view(self) -> list[Any]:
        """What :func:`job_view` updates."""
        return [self.progress, self.status, self.results, self.downloads, self.start_btn, self.cancel_btn, self.timer, self.seen]


def _intro(ctx: AppContext) -> str:
    limits = ctx.tagging.files.limits
    return (f"A whole file, tagged on the server: plain text, JSON lines or a JSON list, CSV/TSV, CoNLL, CoNLL-U, a spaCy "
            f"`.spacy` file, or a zip of these (up to {limits.max_bytes / 1e6:g} MB, {limits.max_docs:,} documents). The model and "
            "the confidence threshold are the ones above. You get every format: `.jsonl` (records with spans), `.csv` (one row "
            "per entity), `.conll`, `.spacy` and `.json` (Label Studio tasks).")


def build(ctx: AppContext) -> FilePanel:
    """Lay the panel out (inside the Tag tab)."""
    with gr.Accordion("Tag a file", open=False, elem_id="tagfile"):
        gr.Markdown(_intro(ctx), elem_id="tagfile-intro")
        with gr.Row(equal_height=False):
            upload = gr.File(label="File to tag", file_count="single", height=120, scale=2, elem_id="tagfile-upload")
            with gr.Column(scale=1, min_width=200):
                text_field = gr.Textbox("text", label="Text field (JSON records)", max_lines=1, visible=False, elem_id="tagfile-field")
                text_column = gr.Textbox("text", label="Text column (CSV/TSV)", max_lines=1, visible=False, elem_id="tagfile-column")
                lines = gr.Checkbox(False, label="One document per line", visible=False, elem_id="tagfile-lines")
        info = gr.Markdown("", label="File", show_label=False, elem_id="tagfile-info")
        preview_df = gr.Dataframe(render.empty_table(PREVIEW_COLUMNS), label="First documents", interactive=False, wrap=True,
                                  max_height=240, column_widths=["22%", "22%", "56%"], elem_id="tagfile-preview")
        with gr.Row():
            start_btn = gr.Button("Tag the file", variant="primary", elem_id="tagfile-start")
            cancel_btn = gr.Button("Cancel", variant="stop", interactive=False, elem_id="tagfile-cancel")
        progress = gr.HTML("", label="Progress", elem_id="tagfile-progress")
        status = gr.Markdown("", label="File status", show_label=False, elem_id="tagfile-status")
        results = gr.Dataframe(render.empty_table(RESULT_COLUMNS), label="First results", interactive=False, wrap=True, max_height=300,
                               column_widths=["20%", "45%", "35%"], elem_id="tagfile-results")
        downloads = gr.File(label="Downloads: .jsonl, .csv, .conll, .spacy, .json (Label Studio)", file_count="multiple",
                            interactive=False, elem_id="tagfile-downloads", elem_classes=["downloads"])
        # any name: the validator says which are known (aliases too: label-studio, .csv ...)
        api_format = gr.Dropdown(list(OUTPUT_FORMATS), value="jsonl", label="Output format", visible=False, allow_custom_value=True)
        api_out = gr.File(label="Tagged file", visible=False)
        api_btn = gr.Button(visible=False)
    return FilePanel(upload, text_field, text_column, lines, info, preview_df, start_btn, cancel_btn, progress, status, results,
                     downloads, gr.Timer(1.0, active=False), gr.State(None), api_format, api_out, api_btn)


def wire(ctx: AppContext, ui: FilePanel, model: gr.Dropdown, threshold: gr.Slider, who: Identity, loaded: Any) -> None:
    """Connect the panel (``model``, ``threshold``: the Tag tab's); ``loaded``: the page load that sets
    the owner token (a page opened again shows the caller's newest file job)."""
    quiet = {"queue": False, "api_visibility": "private", "show_progress": "hidden"}
    read = [ui.upload, ui.text_field, ui.text_column, ui.lines]
    shown = [ui.preview, ui.info, ui.text_field, ui.text_column, ui.lines]
    for trigger in (ui.upload.change, ui.text_field.submit, ui.text_field.blur, ui.text_column.submit, ui.text_column.blur,
                    ui.lines.input):
        trigger(bind(ctx, inspect), read, shown, api_name="tagfile_inspect", api_visibility="private", concurrency_limit=4, concurrency_id="tagfile-inspect")
    inputs = [ui.upload, model, threshold, ui.text_field, ui.text_column, ui.lines, who.token]
    ui.start_btn.click(bind(ctx, start), inputs, ui.view, validator=bind(ctx, check_start), api_name="tagfile_start",
                       api_visibility="private",
                       concurrency_limit=4, concurrency_id="tagfile-submit")
    for trigger in (ui.timer.tick, loaded.then):
        trigger(bind(ctx, poll), [who.token, ui.seen], ui.view, api_name="tagfile_poll", **quiet)
    # named, so that the Fine-tune tab keeps the public name "cancel" (a private handler takes its function's name)
    ui.cancel_btn.click(bind(ctx, cancel), who.token, ui.status, api_name="tagfile_cancel", **quiet)
    api_inputs = [ui.upload, model, threshold, ui.api_format, ui.text_field, ui.text_column, ui.lines, who.token]
    # as many followers as file jobs can be running or waiting; more wait in Gradio's request queue
    ui.api_btn.click(bind(ctx, tag_file), api_inputs, ui.api_out, api_name="tag_file", validator=bind(ctx, check_api),
                     concurrency_limit=ctx.tagging.files.max_waiting + 1, concurrency_id="tagfile-follow")
