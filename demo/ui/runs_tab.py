"""The Runs tab: the trained models (runs) the caller sees, in a table (name, whose, date, data,
labels, epochs, dev F1, time, device), and what to do with one: use it in the Tag tab, download its
zip, analyse its errors on its dev set (Evaluate tab), rename it, delete it. Rename and Delete are
offered only on the caller's own runs (with shared runs, other users' runs are listed as theirs);
Delete asks for confirmation first.

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
from .plumbing import bind, reveal_file, user_errors

BUTTONS = 5  # the action buttons, first in :func:`actions`: use, download, evaluate, delete, rename

# ---------------------------------------------------------------------------------- handlers
@user_errors
def list_runs(ctx: AppContext, current: str | None = None, owner_token: str = "", request: gr.Request | None = None) -> tuple[Any, ...]:
    """-> (runs table, run picker, then the picked run's actions: see :func:`pick`) for the caller."""
    runs = ctx.registry.run_summaries(caller(owner_token, request).owner)
    names = [r["name"] for r in runs]
    value = current if current in names else (names[0] if names else None)
    return render.runs_table(runs), gr.Dropdown(choices=names, value=value), *actions(runs, value)


@user_errors
def relist(ctx: AppContext, current: str | None = None, owner_token: str = "", request: gr.Request | None = None) -> tuple[Any, ...]:
    """After a rename or a delete: :func:`list_runs` without the note and the confirmation row (the
    message says what happened)."""
    return list_runs(ctx, current, owner_token, request)[:2 + BUTTONS]


def actions(runs: list[dict[str, Any]], name: str | None) -> tuple[Any, ...]:
    """(use, download, evaluate, delete, rename buttons, the note under them, the hidden confirmation
    row) for the picked run: Rename and Delete only where they will work (the caller's own runs)."""
    row = next((r for r in runs if r["name"] == name), None)
    mine = bool(row and row.get("changeable"))
    note = ""
    if row is None:
        note = "No runs yet: train a model in the Fine-tune tab." if not runs else ""
    elif not mine:
        note = (f"**{render.md(name)}** belongs to {render.md(row.get('owner'))}: you can use it and download it; only its "
                "owner can rename or delete it.")
    picked = row is not None
    return (gr.Button(interactive=picked), gr.Button(interactive=picked), gr.Button(interactive=picked),
            gr.Button(interactive=mine), gr.Button(interactive=mine), note, gr.Row(visible=False))


@user_errors
def pick(ctx: AppContext, name: str | None, owner_token: str = "", request: gr.Request | None = None) -> tuple[Any, ...]:
    """A run was picked: what can be done with it (:func:`actions`)."""
    return actions(ctx.registry.run_summaries(caller(owner_token, request).owner), name)


@user_errors
def ask_delete(ctx: AppContext, name: str | None, owner_token: str = "", request: gr.Request | None = None) -> tuple[Any, Any]:
    """Delete button: nothing is removed yet; the confirmation row asks first."""
    run = ctx.registry.run_entry(name or "", caller(owner_token, request).owner)
    return gr.Row(visible=True), (f"Delete **{render.md(run.name)}** for good? Its folder and model are removed from the "
                                  "server; download its zip first to keep a copy.")


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


def hide_confirmation() -> Any:
    return gr.Row(visible=False)


def cancel_delete() -> tuple[Any, str]:
    return gr.Row(visible=False), "Nothing was deleted."


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
    evaluate_btn: gr.Button  # opens the Evaluate tab on the picked run's dev set (wired there)
    delete_btn: gr.Button
    new_name: gr.Textbox
    rename_btn: gr.Button
    message: gr.Markdown
    confirm_row: gr.Row  # "Delete X for good?" with Yes / Cancel, shown by the Delete button
    confirm_btn: gr.Button
    keep_btn: gr.Button
    zip_out: gr.File
    chosen: gr.Textbox  # hidden: the run "Use in Tag tab" picked (the Tag tab follows it)

    @property
    def actions(self) -> list[Any]:
        """What :func:`actions` updates, in order."""
        return [self.use_btn, self.download_btn, self.evaluate_btn, self.delete_btn, self.rename_btn, self.message,
                self.confirm_row]


def build(ctx: AppContext) -> RunsTab:
    """Lay the tab out (call inside ``gr.Tab``)."""
    whose = ("Your trained models (only you see them)." if ctx.settings.private_runs else
             "Trained models on this app, yours and other users' (the “whose” column says which).")
    with gr.Row():
        gr.Markdown(f"{whose} Pick one to use it in the Tag tab, download it, analyse its errors on its dev set "
                    "(Evaluate tab), rename it or delete it.")
        refresh = gr.Button("↻", scale=0, min_width=48)
    table = gr.Dataframe(render.runs_table([]), label="Runs", interactive=False, max_height=400, wrap=True,
                         column_widths=["20%", "7%", "11%", "17%", "12%", "7%", "8%", "8%", "10%"], elem_id="runs-table")
    with gr.Row():
        picker = gr.Dropdown(choices=[], value=None, label="Run", scale=3, allow_custom_value=True, elem_id="run-select")  # choices are per caller
        use_btn = gr.Button("Use in Tag tab", interactive=False, elem_id="run-use")
        download_btn = gr.Button("Download zip", interactive=False, elem_id="run-download")
        evaluate_btn = gr.Button("Analyse errors", interactive=False, elem_id="run-evaluate")  # on its dev set
        delete_btn = gr.Button("Delete…", variant="stop", interactive=False, elem_id="run-delete")
    with gr.Row(equal_height=False):
        new_name = gr.Textbox(label="New name for the picked run", max_lines=1, scale=3, elem_id="run-new-name",
                              placeholder="type a name, then press Enter or Rename")
        rename_btn = gr.Button("Rename", interactive=False, scale=0, min_width=120, elem_id="run-rename")
    message = gr.Markdown("", label="Message", elem_id="runs-message")
    with gr.Row(visible=False, elem_id="run-confirm") as confirm_row:
        confirm_btn = gr.Button("Yes, delete it", variant="stop", elem_id="run-confirm-delete")
        keep_btn = gr.Button("Cancel", elem_id="run-keep")
    zip_out = gr.File(label="Model zip (Hugging Face format)", interactive=False, height=90, visible=False, elem_id="run-zip")
    chosen = gr.Textbox(visible=False, label="Chosen run")
    return RunsTab(table, refresh, picker, use_btn, download_btn, evaluate_btn, delete_btn, new_name, rename_btn, message,
                   confirm_row, confirm_btn, keep_btn, zip_out, chosen)


def wire(ctx: AppContext, ui: RunsTab, blocks: gr.Blocks, who: Identity, loaded: Any, tabs: gr.Tabs,
         new_run: gr.Textbox) -> None:
    """Connect the tab's events. The table is drawn on page load (``loaded``), on ↻ and after a change
    here; when ``new_run`` (the Fine-tune tab's new model) changes, the table is drawn with it picked."""
    shown = [ui.table, ui.picker, *ui.actions]
    quiet = {"queue": False, "api_visibility": "private"}
    for trigger in (ui.refresh.click, loaded.then):
        trigger(bind(ctx, list_runs), [ui.picker, who.token], shown, **quiet)
    new_run.change(bind(ctx, list_runs), [new_run, who.token], shown, **quiet)  # a finished job: its run is picked
    ui.picker.input(bind(ctx, pick), [ui.picker, who.token], ui.actions, **quiet)
    ui.download_btn.click(bind(ctx, download), [ui.picker, who.token], ui.zip_out, api_name="download", concurrency_limit=2,
                          concurrency_id="zip").success(reveal_file, None, ui.zip_out, **quiet)
    relisted = [ui.table, ui.picker, *ui.actions[:BUTTONS]]
    renamed = (bind(ctx, rename), [ui.picker, ui.new_name, who.token], ui.message)
    ui.rename_btn.click(*renamed, api_name="rename").success(bind(ctx, relist), [ui.new_name, who.token], relisted, **quiet)
    ui.new_name.submit(*renamed, **quiet).success(bind(ctx, relist), [ui.new_name, who.token], relisted, **quiet)
    ui.delete_btn.click(bind(ctx, ask_delete), [ui.picker, who.token], [ui.confirm_row, ui.message], **quiet)
    ui.keep_btn.click(cancel_delete, None, [ui.confirm_row, ui.message], **quiet)
    ui.confirm_btn.click(bind(ctx, delete), [ui.picker, who.token], ui.message, api_name="delete").then(
        hide_confirmation, None, ui.confirm_row, **quiet).success(bind(ctx, relist), [ui.picker, who.token], relisted, **quiet)
    ui.use_btn.click(bind(ctx, use), ui.picker, [ui.chosen, tabs], **quiet)
    gr.api(bind(ctx, models), api_name="models", queue=False)
