"""The Runs tab: the caller's trained models (runs) in a table (name, date, data, labels, epochs,
dev F1, time, device), and what to do with one: use it in the Tag tab, download its zip,
rename it, delete it (owner only).

Public API: ``/models`` (the models the caller may use, as JSON), ``/download`` (a run's zip),
``/rename``, ``/delete``; each takes ``owner_token`` last (see :mod:`demo.ui.identity`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from demo.service.app_context import AppContext

from . import render
from .identity import Identity, caller
from .plumbing import bind, user_errors



# ---------------------------------------------------------------------------------- handlers
@user_errors
def list_runs(ctx: AppContext, current: str | None = None, owner_token: str = "", request: gr.Request | None = None) -> tuple[Any, ...]:
    """-> (runs table, run picker) for the caller."""
    runs = ctx.registry.run_summaries(caller(owner_token, request).owner)
    names = [r["name"] for r in runs]
    value = current if current in names else (names[0] if names else None)
    return render.runs_table(runs), gr.Dropdown(choices=names, value=value)


@user_errors
def models(ctx: AppContext, owner_token: str = "", request: gr.Request | None = None) -> list[dict[str, Any]]:
    """``/models``: the models the caller may tag with: name, source (default, run, folder), labels,
    base, head, dev_f1, test_f1 (in %), created (runs), and for runs their training details."""
    return ctx.registry.models(caller(owner_token, request).owner)


@user_errors
def download(ctx: AppContext, model: str, owner_token: str = "", request: gr.Request | None = None) -> str:
    """``/download``: one of the caller's runs as a zip (a Hugging Face model folder)."""
    run = ctx.registry.run_entry(model, caller(owner_token, request).owner)
    return str(ctx.zip_for(run))


@user_errors
def rename(ctx: AppContext, model: str, new_name: str, owner_token: str = "", request: gr.Request | None = None) -> str:
    """``/rename``: give one of the caller's runs a new display name (its folder stays as it is)."""
    run = ctx.registry.rename(model, new_name, caller(owner_token, request).owner)
    return f"Renamed to **{render.md(run.name)}**."


@user_errors
def delete(ctx: AppContext, model: str, owner_token: str = "", request: gr.Request | None = None) -> str:
    """``/delete``: remove one of the caller's runs from disk."""
    run = ctx.registry.delete(model, caller(owner_token, request).owner)
    return f"Deleted **{render.md(run.name)}**."


@user_errors
def use(ctx: AppContext, model: str | None) -> tuple[Any, Any]:
    """"Use in Tag tab": hand the name to the Tag tab and switch to it."""
    return model or "", gr.Tabs(selected="tag")


# ---------------------------------------------------------------------------------- layout
@dataclass
class RunsTab:
    table: gr.Dataframe
    refresh: gr.Button
    picker: gr.Dropdown
    use_btn: gr.Button
    download_btn: gr.Button
    delete_btn: gr.Button
    new_name: gr.Textbox
    rename_btn: gr.Button
    message: gr.Markdown
    zip_out: gr.File
    chosen: gr.Textbox  # hidden: the run "Use in Tag tab" picked (the Tag tab follows it)


def build(ctx: AppContext) -> RunsTab:
    """Lay the tab out (call inside ``gr.Tab``)."""
    with gr.Row():
        gr.Markdown("Your trained models. Pick one to use it, download it, rename it or delete it.")
        refresh = gr.Button("↻", scale=0, min_width=48)
    table = gr.Dataframe(render.runs_table([]), label="Runs", interactive=False, max_height=400, elem_id="runs-table")
    with gr.Row():
        picker = gr.Dropdown(choices=[], value=None, label="Run", scale=3, allow_custom_value=True, elem_id="run-select")  # choices are per caller
        use_btn = gr.Button("Use in Tag tab", elem_id="run-use")
        download_btn = gr.Button("Download zip", elem_id="run-download")
        delete_btn = gr.Button("Delete", variant="stop", elem_id="run-delete")
    with gr.Row():
        new_name = gr.Textbox(label="New name", max_lines=1, scale=3, elem_id="run-new-name")
        rename_btn = gr.Button("Rename", elem_id="run-rename")
    message = gr.Markdown("", label="Message", elem_id="runs-message")
    zip_out = gr.File(label="Model zip (Hugging Face format)", interactive=False, height=90, elem_id="run-zip")
    chosen = gr.Textbox(visible=False, label="Chosen run")
    return RunsTab(table, refresh, picker, use_btn, download_btn, delete_btn, new_name, rename_btn, message, zip_out, chosen)


def wire(ctx: AppContext, ui: RunsTab, blocks: gr.Blocks, who: Identity, loaded: Any, tabs: gr.Tabs,
         new_run: gr.Textbox) -> None:
    """Connect the tab's events. The table is drawn on page load (``loaded``), on ↻, after a
    change here, and when ``new_run`` (the Fine-tune tab's new model name) changes."""
    listing = (bind(ctx, list_runs), [ui.picker, who.token], [ui.table, ui.picker])
    quiet = {"queue": False, "api_visibility": "private"}
    for trigger in (ui.refresh.click, loaded.then, new_run.change):
        trigger(*listing, **quiet)
    ui.download_btn.click(bind(ctx, download), [ui.picker, who.token], ui.zip_out, api_name="download", concurrency_limit=2,
                          concurrency_id="zip")
    ui.rename_btn.click(bind(ctx, rename), [ui.picker, ui.new_name, who.token], ui.message, api_name="rename").success(
        bind(ctx, list_runs), [ui.new_name, who.token], [ui.table, ui.picker], **quiet)
    ui.delete_btn.click(bind(ctx, delete), [ui.picker, who.token], ui.message, api_name="delete").success(*listing, **quiet)
    ui.use_btn.click(bind(ctx, use), ui.picker, [ui.chosen, tabs], **quiet)
    gr.api(bind(ctx, models), api_name="models", queue=False)
