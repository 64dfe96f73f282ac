"""The Fine-tune tab's data section: one file, several files or a zip, in any format the readers
know (:mod:`tagger.readers`); a format override, names for integer label ids, the label column by
name; then the data report (with the conversion counts and examples) and a preview of ~5
sentences with their gold labels, highlighted as predictions are.

API (kept from the first version; new parameters last, with defaults): ``/data_report`` (``f``,
``d``, then ``files``, ``data_format``, ``label_names``). The visible upload takes several files;
a hidden single-file input ``f`` keeps ``/train`` and ``/data_report`` callable with one file.
"""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from demo.service.app_context import AppContext
from demo.service.registry import DEFAULT_NAME
from demo.service.uploads import inspect_upload, read_upload
from tagger.data import FORMATS, read_files
from tagger.errors import DataError
from tagger.readers import canonical
from tagger.schemes import entity_type

from . import correct_tab, data_view, render
from .identity import caller
from .plumbing import bind, user_errors

UPLOAD_HINT = ("Upload training data: CoNLL, CoNLL-U, JSONL (tokens/tags, doccano, Prodigy), Label Studio JSON, spaCy .spacy, "
               "Parquet, CSV/TSV; several files or a zip are read as one data set.")
FORMAT_CHOICES = [(f"{name}: {desc}" if name != "auto" else "auto: detect each file", name) for name, desc in FORMATS.items()]
NO_PICKER = [("default", -1)]


def upload_paths(train_file: Any, train_files: Any) -> list[str]:
    """The training uploads: the single-file input (API) and the multi-file one (UI), in order.

    >>> upload_paths("/t/a.conll", None), upload_paths(None, ["/t/a.jsonl", "/t/b.jsonl"]), upload_paths("", [])
    (['/t/a.conll'], ['/t/a.jsonl', '/t/b.jsonl'], [])
    """
    single = [str(train_file)] if train_file else []
    several = [str(p) for p in train_files] if isinstance(train_files, list | tuple) else ([str(train_files)] if train_files else [])
    return single + [p for p in several if p not in single]


def label_column_value(value: Any) -> int | str:
    """A picker value: a CoNLL column number, or a column name (``upos``, ``ner_tags`` ...).

    >>> label_column_value(""), label_column_value("3"), label_column_value(2.0), label_column_value("upos")
    (-1, 3, 2, 'upos')
    """
    if value in (None, ""):
        return -1
    if isinstance(value, int | float) and not isinstance(value, bool):
        if value != int(value):
            raise DataError("label column", None, f"label column must be a whole number or a name, got {value!r}")
        return int(value)
    text = str(value).strip()
    return int(text) if text.lstrip("-").isdigit() else text


def read_options(data_format: Any, label_names: Any) -> tuple[str, str | None]:
    """(format, label names) from the UI's inputs; an unknown format is a DataError naming the choices."""
    return canonical(str(data_format or "auto")), (str(label_names).strip() or None) if label_names else None


@contextmanager
def bundled(paths: list[str]) -> Iterator[str]:
    """One path for a job: the upload itself, or a zip of several uploads (under their own names)."""
    if len(paths) == 1:
        yield paths[0]
        return
    folder = Path(tempfile.mkdtemp(prefix="tagger-upload-"))
    try:
        target = folder / "training-files.zip"
        with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for i, p in enumerate(paths):
                name = Path(p).name
                zf.write(p, f"{i:03d}/{name}" if Path(name).suffix.lower() != ".zip" else f"{i:03d}-{name}")
        yield str(target)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def uploads_name(paths: list[str]) -> str:
    """How a run names its training data.

    >>> uploads_name(["/x/a.jsonl"]), uploads_name(["/x/a.jsonl", "/x/b.jsonl", "/x/c.jsonl"])
    ('a.jsonl', 'a.jsonl + 2 more files')
    """
    return Path(paths[0]).name + (f" + {len(paths) - 1} more files" if len(paths) > 1 else "")


# ---------------------------------------------------------------------------------- handlers
@user_errors
def inspect(ctx: AppContext, train_file: str | None, dev_file: str | None, label_column: Any, train_files: list[str] | None = None,
            data_format: str = "auto", label_names: str = "") -> tuple[Any, ...]:
    """-> (data report markdown, label-column picker, labels table). Bad data is reported, not raised."""
    paths = upload_paths(train_file, train_files)
    if not paths:
        return UPLOAD_HINT, gr.Dropdown(visible=False, choices=NO_PICKER, value=-1), render.labels_table_empty()
    try:
        fmt, names = read_options(data_format, label_names)
        info = inspect_upload(paths, label_column_value(label_column), fmt, names)
        dev = read_files([dev_file], info.label_column, fmt=fmt, labels=names).report if dev_file else None
    except DataError as err:
        gr.Warning(render.plain(err))
        return f"❌ {render.md(err)}", gr.Dropdown(), render.labels_table_empty()
    text = render.report_markdown(info.report, dev)
    if DEFAULT_NAME in ctx.registry.names():
        same = info.labels == list(ctx.registry.record(DEFAULT_NAME).labels)
        default_types = set(ctx.registry.record(DEFAULT_NAME).types)
        new = sorted({entity_type(x) for x in info.labels} - default_types - {"O"})
        text += "  \n" + ("✓ same labels as the default tagger: you can continue training it" if same else
                          f"labels the default tagger does not have ({render.md(', '.join(new[:8]))}) are added to it if you continue it"
                          if new else "✓ the default tagger knows these labels: you can continue training it")
    picker = (
        gr.Dropdown(choices=info.column_choices, value=info.label_column, visible=True)
        if info.column_choices else gr.Dropdown(choices=NO_PICKER, value=-1, visible=False)
    )
    return text, picker, render.labels_table(info.report)


@user_errors
def data_report(ctx: AppContext, f: str | None, d: str | None, files: list[str] | None = None, data_format: str = "auto",
                label_names: str = "") -> tuple[Any, ...]:
    """``/data_report``: the report of training file ``f`` (or ``files``: several, read as one data
    set) and dev file ``d``, with each format's default label column."""
    return inspect(ctx, f, d, -1, files, data_format, label_names)


@user_errors
def preview(ctx: AppContext, train_file: str | None, train_files: list[str] | None, label_column: Any, data_format: str = "auto",
            label_names: str = "") -> Any:
    """The first sentences of the training data with their gold labels (empty when it does not read)."""
    paths = upload_paths(train_file, train_files)
    try:
        fmt, names = read_options(data_format, label_names)
        dataset = read_upload(paths, label_column_value(label_column), fmt, names) if paths else None
    except DataError:
        dataset = None  # the report says why
    if dataset is None:
        return gr.HighlightedText(value=None, visible=bool(paths))
    value, colors = data_view.preview_value(dataset.sentences)
    return gr.HighlightedText(value=value, color_map=colors, visible=True)


NO_CORRECTIONS = [("none", "")]


def corrections_paths(ctx: AppContext, dataset: Any, owner: str | None) -> list[str]:
    """The chosen corrections dataset of the caller as a JSONL file to read (none when none is chosen)."""
    return [str(correct_tab.export_file(ctx, owner, dataset, "jsonl"))] if isinstance(dataset, str) and dataset.strip() else []


@user_errors
def corrections_choices(ctx: AppContext, current: Any, owner_token: str = "", request: gr.Request | None = None) -> Any:
    """The caller's corrections datasets (theirs only, also when runs are shared)."""
    names = correct_tab.store(ctx).names(caller(owner_token, request).owner)
    return gr.Dropdown(choices=NO_CORRECTIONS + [(n, n) for n in names], value=current if current in names else "")


@user_errors
def inspect_corrections(ctx: AppContext, train_file: str | None, dev_file: str | None, label_column: Any, train_files: Any,
                        data_format: str, label_names: str, corrections: Any, owner_token: str = "",
                        request: gr.Request | None = None) -> tuple[Any, ...]:
    """The data report of the uploads plus the chosen corrections dataset."""
    extra = corrections_paths(ctx, corrections, caller(owner_token, request).owner)
    return inspect(ctx, None, dev_file, label_column, [*upload_paths(train_file, train_files), *extra], data_format, label_names)


# ---------------------------------------------------------------------------------- layout
@dataclass
class DataExtras:
    """The data section's inputs beyond the first version's (``train_file`` is now hidden)."""

    train_files: gr.File
    data_format: gr.Dropdown
    label_names: gr.Textbox
    preview: gr.HighlightedText
    corrections: gr.Dropdown  # one of the caller's corrections datasets (Correct tab), trained on with the uploads


def build() -> tuple[tuple[Any, ...], DataExtras]:
    """-> ((train_file, dev_file, report_md, label_col, labels_df), extras); call inside the tab."""
    with gr.Row():
        train_files = gr.File(label="Training data (one or several files, or a zip; any format)", file_count="multiple",
                              type="filepath", elem_id="train-file")
        dev_file = gr.File(label="Dev file (optional, any format; else 10% held out)", file_count="single", type="filepath",
                           elem_id="dev-file")
    train_file = gr.File(label="Training file", file_count="single", type="filepath", visible=False, elem_id="train-file-api")
    corrections = gr.Dropdown(NO_CORRECTIONS, value="", label="…and/or a corrections dataset of yours (from the Correct tab)",
                              elem_id="train-corrections")
    with gr.Row():
        data_format = gr.Dropdown(FORMAT_CHOICES, value="auto", label="Format", elem_id="data-format",
                                  info="detected per file; pick one if detection gets it wrong")
        label_col = gr.Dropdown(choices=NO_PICKER, value=-1, label="Label column", allow_custom_value=True, visible=False,
                                elem_id="label-column")
        label_names = gr.Textbox("", label="Label names for integer ids", placeholder="O, B-PER, I-PER, B-LOC, I-LOC", elem_id="label-names",
                                 info="in id order; only for tags given as numbers without a dataset_info.json")
    report_md = gr.Markdown(UPLOAD_HINT, label="Data report", show_label=False, elem_id="data-report")
    with gr.Row():
        preview_hl = gr.HighlightedText(label="Preview: gold labels of the first sentences", show_legend=True, combine_adjacent=False,
                                        visible=False, elem_id="data-preview", elem_classes=["chips"])
        labels_df = gr.Dataframe(value=render.labels_table_empty(), label="Labels in the training data", interactive=False,
                                 max_height=220)
    return (train_file, dev_file, report_md, label_col, labels_df), DataExtras(train_files, data_format, label_names, preview_hl,
                                                                               corrections)


def wire(ctx: AppContext, dev_file: Any, label_col: Any, outputs: list[Any], extras: DataExtras, train_file: Any) -> None:
    """The data section's events: a new upload -> ``/data_report``; the dev file, the format, the
    label names or the column picker -> the report again; each then the preview. (``train_file``,
    hidden, is for API callers: they call the endpoints, not its events.)"""
    shared = {"concurrency_limit": 4, "concurrency_id": "inspect"}
    previewed = [train_file, extras.train_files, label_col, extras.data_format, extras.label_names]
    report = extras.train_files.change(bind(ctx, data_report), [train_file, dev_file, extras.train_files, extras.data_format,
                                                                extras.label_names], outputs, api_name="data_report", **shared)
    report.then(bind(ctx, preview), previewed, extras.preview, api_visibility="private", **shared)
    full = [train_file, dev_file, label_col, extras.train_files, extras.data_format, extras.label_names]
    for trigger in (dev_file.change, label_col.input, extras.data_format.input, extras.label_names.submit, extras.label_names.blur):
        event = trigger(bind(ctx, inspect), full, outputs, api_visibility="private", **shared)
        event.then(bind(ctx, preview), previewed, extras.preview, api_visibility="private", **shared)
