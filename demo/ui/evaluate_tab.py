"""The Evaluate tab: a model on a labeled file -> overall and per-type scores, the error-type
table, the confusion matrix as a heat map, an error browser (gold and predicted lines, filters by
type and error kind, sorting, pages), downloads, and a comparison with a second model.

Handlers are module-level functions taking the :class:`~demo.service.app_context.AppContext` first, so tests
call them without a server; :func:`build` lays the tab out and returns :class:`EvaluateTab`;
:func:`wire` connects its events; :func:`follow_training` puts an "Analyse errors on the dev set"
button under a finished training run (:func:`open_run_analysis`: the same for any run-name component). Public API: ``/evaluate`` (parameters ``data_file``,
``model``, ``compare_with``, ``label_column``, ``owner_token``). :func:`evaluate_run` evaluates a
trained run on the dev sentences saved with it (``dev.jsonl``, :func:`tagger.meta.dev_data_path`).

The analysis itself is :mod:`tagger.evaluation` / :mod:`tagger.analysis` (the CLI's ``evaluate
--errors`` runs the same code); it is imported when first used (seqeval is slow to import).
"""

from __future__ import annotations

import shutil
import time
import uuid
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr

from demo.service.app_context import AppContext
from tagger.analysis import ERROR_KINDS, filter_sentences, sort_sentences
from tagger.data import read_file
from tagger.errors import ConfigError, InputError
from tagger.meta import dev_data_path

from . import evaluate_view as view
from . import render
from .identity import Identity, caller
from .plumbing import bind, user_errors

if TYPE_CHECKING:
    from tagger.data import Sentence
    from tagger.evaluation import Evaluation

_PROGRESS = gr.Progress()  # Gradio injects a tracker where a parameter defaults to a Progress
PAGE_SIZE = 5
KEEP_DOWNLOADS = 6  # evaluations whose download files are kept (older ones are removed)
SORTS = [("most errors", "errors"), ("lowest confidence", "confidence"), ("data order", "order")]
KINDS = [(view.KIND_NAMES[k], k) for k in ERROR_KINDS if k != "correct"]
UPLOAD_HINT = "Upload a labeled file (any format the Fine-tune tab reads: CoNLL, CoNLL-U, span JSONL, Label Studio, datasets exports, spaCy, CSV), pick a model, and press Evaluate."
NO_COMPARE = "no comparison"


@dataclass(frozen=True)
class Shown:
    """What an evaluation shows: one field per output component, named as on :class:`EvaluateTab`
    (``EvaluateTab.results`` lists the components in this order, which is ``/evaluate``'s output order)."""

    summary: str
    scores_df: Any
    errors_df: Any
    confusion: str  # the confusion matrix as an HTML heat map
    compare_md: str
    compare_df: Any
    disagree_df: Any
    downloads: list[str]
    types: Any  # the error browser's type filter (its choices)
    state: Any  # the Result, for the error browser

    def values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, f.name) for f in fields(self))


@dataclass
class Result:
    """One evaluation, kept in the browser session's state for the error browser."""

    evaluation: Evaluation
    model: str
    types: list[str] = field(default_factory=list)  # entity types (plain tasks: tags) with errors
    colors: dict[str, str] = field(default_factory=dict)


def _column(label_column: Any) -> int:
    try:
        return int(label_column if label_column not in (None, "") else -1)
    except (TypeError, ValueError):
        raise ConfigError(f"label column must be a whole number, got {label_column!r}") from None



def _download_dir(ctx: AppContext) -> Path:
    """A fresh folder for one evaluation's files, under the context's temporary folder (removed
    on close); only the newest :data:`KEEP_DOWNLOADS` are kept."""
    root = ctx.zip_dir / "evaluations"
    root.mkdir(parents=True, exist_ok=True)
    for old in sorted(root.iterdir(), key=lambda p: p.stat().st_mtime)[: -(KEEP_DOWNLOADS - 1) or None]:
        shutil.rmtree(old, ignore_errors=True)
    folder = root / uuid.uuid4().hex
    folder.mkdir()
    return folder


def _write_downloads(ctx: AppContext, ev: Evaluation, model: str) -> list[str]:
    from tagger.evaluation import errors_jsonl, predictions_conll, predictions_jsonl, write_text

    folder = _download_dir(ctx)
    stem = "".join(c if c.isalnum() or c in "-_." else "_" for c in model)[:60] or "model"
    return [
        str(write_text(folder / f"predictions-{stem}.conll", predictions_conll(ev))),
        str(write_text(folder / f"predictions-{stem}.jsonl", predictions_jsonl(ev))),
        str(write_text(folder / f"errors-{stem}.jsonl", errors_jsonl(ev.error_sentences))),
    ]


def analyse_sentences(ctx: AppContext, sentences: list[Sentence], source: str, model: Any, compare_with: Any,
                      owner: str | None, progress: Any) -> tuple[Any, ...]:
    """The work behind ``/evaluate`` and :func:`evaluate_run` -> the tab's result values."""
    from tagger.analysis import compare
    from tagger.evaluation import evaluate as run_evaluation

    other = compare_with if compare_with not in (None, "", NO_COMPARE) else None
    predictor = ctx.registry.predictor(model, owner)
    second = ctx.registry.predictor(other, owner) if other else None
    passes = 2 if second else 1
    t0 = time.perf_counter()

    def tick(k: int) -> Any:
        return lambda done, total: progress((k + done / max(total, 1)) / passes, desc=f"tagging {done:,}/{total:,} sentences")

    ev = run_evaluation(predictor, sentences, on_progress=tick(0))
    seconds = time.perf_counter() - t0
    types = sorted({t for s in ev.error_sentences for m in s.errors for t in m.types})
    all_types = sorted({t for tags in (ev.gold, ev.pred) for s in tags for t in (render.entity_type(x) for x in s) if t != "O"})
    labels = list(ctx.registry.record(model, owner).labels)
    result = Result(ev, str(model), types, view.browser_color_map(all_types))
    compare_df, disagree_df = render.empty_table(view.COMPARE_COLUMNS), render.empty_table(view.DISAGREE_COLUMNS)
    compare_md = f"Pick a second model in “Compare with” to see both side by side (A = {render.md(model)})."
    if second is not None:
        ev_b = run_evaluation(second, sentences, on_progress=tick(1))
        c = compare(ev.gold, ev.pred, ev_b.pred, ev.words)
        compare_df = view.compare_table(c["per_type"], c["a"]["f1"], c["b"]["f1"])
        disagree_df = view.disagreement_table(c["disagreements"])
        better = [d.better for d in c["disagreements"]]
        compare_md = (f"A = `{render.md(model)}`, B = `{render.md(other)}`: {render.count(len(better), 'sentence')} tagged differently; "
                      f"A has fewer errors in {better.count('a'):,}, B in {better.count('b'):,}, "
                      f"the same number in {better.count('same'):,}.")
    return Shown(
        summary=view.summary_markdown(str(model), source, ev, seconds, render.model_types(labels)),
        scores_df=render.scores_table(ev.scores),
        errors_df=view.error_table(ev.analysis.errors),
        confusion=view.confusion_html(ev.analysis.confusion, ev.analysis.task),
        compare_md=compare_md,
        compare_df=compare_df,
        disagree_df=disagree_df,
        downloads=_write_downloads(ctx, ev, str(model)),
        types=gr.CheckboxGroup(choices=types, value=[]),
        state=result,
    ).values()


# ---------------------------------------------------------------------------------- handlers
@user_errors
def evaluate(ctx: AppContext, data_file: str | None, model: str, compare_with: str | None = None, label_column: Any = -1,
             owner_token: str = "", request: gr.Request | None = None, progress: gr.Progress = _PROGRESS) -> tuple[Any, ...]:
    """``/evaluate`` -> the fields of :class:`Shown` (summary, scores, error types, confusion heat map
    (HTML), comparison note, per-type F1 of both models, disagreements, download files, type filter, state)."""
    if not data_file:
        raise InputError(UPLOAD_HINT)
    owner = caller(owner_token, request).owner
    ctx.registry.get(model, owner)  # an unknown model fails before the file is read
    data = read_file(data_file, _column(label_column))
    return analyse_sentences(ctx, data.sentences, data.report.file, model, compare_with, owner, progress)


@user_errors
def evaluate_run(ctx: AppContext, run_name: str, owner_token: str = "", request: gr.Request | None = None,
                 progress: gr.Progress = _PROGRESS) -> tuple[Any, ...]:
    """A trained run on the dev sentences saved with it -> (model selector, then what
    :func:`evaluate` returns)."""
    if not run_name:
        raise InputError("Pick a run first.")
    owner = caller(owner_token, request).owner
    entry = ctx.registry.get(run_name, owner)
    path = dev_data_path(entry.path)
    if path is None:
        raise InputError(f"Model {run_name!r} has no dev data saved with it (models trained by this app keep theirs); "
                         "upload a labeled file to evaluate it on.")
    sentences = read_file(path).sentences
    names = ctx.registry.names(owner)
    out = analyse_sentences(ctx, sentences, f"the dev set of {run_name}", run_name, None, owner, progress)
    return (gr.Dropdown(choices=names, value=run_name), *out)


@user_errors
def browse(ctx: AppContext, result: Result | None, types: list[str] | None, kinds: list[str] | None, sort_by: str,
           page: Any) -> tuple[Any, ...]:
    """The error browser's page -> (page number, page line, then per slot: group, header, gold, predicted)."""
    if result is None:
        return 1, "", *[v for _ in range(PAGE_SIZE) for v in (gr.Column(visible=False), "", None, None)]
    chosen = filter_sentences(result.evaluation.error_sentences, types or (), kinds or ())
    ordered = sort_sentences(chosen, sort_by if sort_by in dict(SORTS).values() else "errors")
    items, page_no, pages = view.page_of(ordered, page, PAGE_SIZE)
    total = len(result.evaluation.error_sentences)
    line = (f"{len(chosen):,} of {render.count(total, 'sentence')} with errors {'matches' if len(chosen) == 1 else 'match'} · page {page_no} of {pages}" if total
            else "No errors: every entity was found with the right span and type.")
    slots: list[Any] = []
    for i in range(PAGE_SIZE):
        if i >= len(items):
            slots += [gr.Column(visible=False), "", None, None]
            continue
        s = items[i]
        gold_marks, pred_marks = view.marked_spans(s.errors)
        slots += [
            gr.Column(visible=True),
            view.sentence_header(s),
            gr.HighlightedText(view.sentence_value(s.words, s.gold, gold_marks), color_map=result.colors),
            gr.HighlightedText(view.sentence_value(s.words, s.pred, pred_marks, s.confidences), color_map=result.colors),
        ]
    return page_no, line, *slots


@user_errors
def first_page(ctx: AppContext, result: Result | None, types: list[str] | None, kinds: list[str] | None,
               sort_by: str) -> tuple[Any, ...]:
    return browse(ctx, result, types, kinds, sort_by, 1)


@user_errors
def previous_page(ctx: AppContext, result: Result | None, types: list[str] | None, kinds: list[str] | None, sort_by: str,
                  page: Any) -> tuple[Any, ...]:
    return browse(ctx, result, types, kinds, sort_by, (page or 1) - 1)


@user_errors
def next_page(ctx: AppContext, result: Result | None, types: list[str] | None, kinds: list[str] | None, sort_by: str,
              page: Any) -> tuple[Any, ...]:
    return browse(ctx, result, types, kinds, sort_by, (page or 1) + 1)


@user_errors
def refresh_models(ctx: AppContext, current: str | None, other: str | None, owner_token: str = "",
                   request: gr.Request | None = None) -> tuple[Any, Any]:
    """The caller's models now, for both selectors (keeping the choices that still exist)."""
    names = ctx.registry.names(caller(owner_token, request).owner)
    value = current if current in names else (names[0] if names else None)
    second = other if other in names else NO_COMPARE
    return gr.Dropdown(choices=names, value=value), gr.Dropdown(choices=[NO_COMPARE, *names], value=second)


def check_inputs(data_file: Any, model: Any, compare_with: Any = None, label_column: Any = -1, owner_token: Any = "") -> tuple[Any, ...]:
    """Validator of ``/evaluate``'s inputs (before it runs, without the queue): a missing file or model
    is shown at that input, and nothing else is marked as failed."""
    return (gr.validate(bool(data_file), "Upload a labeled file to evaluate on first."),
            gr.validate(bool(model), "Pick a model first."), gr.validate(True, ""), gr.validate(True, ""), gr.validate(True, ""))


def cleared() -> tuple[Any, ...]:
    """Empty results (the fields of :class:`Shown`): a new evaluation starts from a clean page."""
    return Shown("", render.scores_table_empty(), render.empty_table(view.ERROR_COLUMNS), "", "",
                 render.empty_table(view.COMPARE_COLUMNS), render.empty_table(view.DISAGREE_COLUMNS), [],
                 gr.CheckboxGroup(choices=[], value=[]), None).values()


def open_comparison(compare_with: str | None) -> Any:
    """The comparison's accordion is opened by an evaluation that compared two models."""
    return gr.Accordion(open=bool(compare_with) and compare_with != NO_COMPARE)


def show_run_button(name: str | None) -> Any:
    return gr.Button(visible=bool(name))


def to_evaluate_tab() -> Any:
    return gr.Tabs(selected="evaluate")


# ---------------------------------------------------------------------------------- layout
@dataclass
class EvaluateTab:
    data_file: gr.File
    model: gr.Dropdown
    compare_with: gr.Dropdown
    label_column: gr.Number
    refresh: gr.Button
    run_btn: gr.Button
    summary: gr.Markdown
    scores_df: gr.Dataframe
    errors_df: gr.Dataframe
    confusion: gr.HTML
    compare_md: gr.Markdown
    compare_df: gr.Dataframe
    disagree_df: gr.Dataframe
    downloads: gr.File
    types: gr.CheckboxGroup
    kinds: gr.CheckboxGroup
    sort_by: gr.Radio
    page: gr.Number
    prev_btn: gr.Button
    next_btn: gr.Button
    page_line: gr.Markdown
    slots: list[tuple[gr.Column, gr.Markdown, gr.HighlightedText, gr.HighlightedText]]
    state: gr.State
    compare_box: gr.Accordion

    @property
    def results(self) -> list[Any]:
        """What :func:`evaluate` returns, in order (the fields of :class:`Shown`)."""
        return [getattr(self, f.name) for f in fields(Shown)]

    @property
    def filters(self) -> list[Any]:
        return [self.state, self.types, self.kinds, self.sort_by]

    @property
    def page_outputs(self) -> list[Any]:
        return [self.page, self.page_line, *(c for slot in self.slots for c in slot)]


def _input_section(ctx: AppContext) -> tuple[Any, ...]:
    names = ctx.registry.names()
    with gr.Row():
        data_file = gr.File(label="Labeled file (any supported format)", file_count="single", type="filepath",
                            elem_id="eval-file")
        with gr.Column():
            with gr.Row():
                model = gr.Dropdown(choices=names, value=names[0] if names else None, label="Model (A)",
                                    allow_custom_value=True, scale=4, elem_id="eval-model")
                refresh = gr.Button("↻", scale=0, min_width=48)
            compare_with = gr.Dropdown(choices=[NO_COMPARE, *names], value=NO_COMPARE, label="Compare with (B)",
                                       allow_custom_value=True, elem_id="eval-compare")
            label_column = gr.Number(value=-1, precision=0, label="Label column (-1 = last)", elem_id="eval-label-column")
    run_btn = gr.Button("Evaluate", variant="primary", elem_id="eval-button")
    return data_file, model, compare_with, label_column, refresh, run_btn


def _results_section() -> tuple[Any, ...]:
    summary = gr.Markdown(UPLOAD_HINT, label="Evaluation summary", show_label=False, elem_id="eval-summary")
    with gr.Row():
        scores_df = gr.Dataframe(render.scores_table_empty(), label="Scores per type", interactive=False, wrap=True,
                                 column_widths=render.SCORE_WIDTHS, elem_id="eval-scores")
        with gr.Column():
            gr.Markdown("**Confusion matrix** (rows: gold; columns: predicted; green: types agree, red: confusions)")
            confusion = gr.HTML("", label="Confusion matrix", elem_id="eval-confusion")
    errors_df = gr.Dataframe(render.empty_table(view.ERROR_COLUMNS), label="Error types per type (counted under the gold "
                             "type; spurious under the predicted type)", interactive=False, wrap=True, elem_id="eval-errors")
    # closed until an evaluation compares two models: empty, its tables only push the downloads down
    with gr.Accordion("Compare with a second model", open=False, elem_id="eval-compare-box") as compare_box:
        compare_md = gr.Markdown("", label="Comparison", show_label=False, elem_id="eval-compare-summary")
        compare_df = gr.Dataframe(render.empty_table(view.COMPARE_COLUMNS), label="F1 per type, side by side",
                                  interactive=False, wrap=True, column_widths=render.SCORE_WIDTHS, elem_id="eval-compare-table")
        disagree_df = gr.Dataframe(render.empty_table(view.DISAGREE_COLUMNS), label="Sentences the two models tag differently",
                                   interactive=False, max_height=360, wrap=True,
                                   column_widths=["5%", "26%", "17%", "17%", "17%", "9%", "9%"], elem_id="eval-disagreements")
    downloads = gr.File(label="Downloads: predictions (CoNLL: word gold predicted; JSONL) and the sentences with errors",
                        file_count="multiple", interactive=False, elem_id="eval-downloads", elem_classes=["downloads"])
    return summary, scores_df, errors_df, confusion, compare_md, compare_df, disagree_df, downloads, compare_box


def _browser_section() -> tuple[Any, ...]:
    gr.Markdown("### Error browser")
    with gr.Row():
        types = gr.CheckboxGroup([], label="Entity types", elem_id="eval-types")
        kinds = gr.CheckboxGroup(KINDS, label="Error kinds", elem_id="eval-kinds")
        sort_by = gr.Radio(SORTS, value="errors", label="Sort by", elem_id="eval-sort")
    with gr.Row():
        prev_btn = gr.Button("◀ Previous", scale=0, elem_id="eval-prev")
        page = gr.Number(value=1, precision=0, label="Page", minimum=1, scale=0, min_width=90, elem_id="eval-page")
        next_btn = gr.Button("Next ▶", scale=0, elem_id="eval-next")
        page_line = gr.Markdown("", label="Browser status", show_label=False, elem_id="eval-page-line")
    slots = []
    for i in range(PAGE_SIZE):
        with gr.Column(visible=False, elem_id=f"eval-slot-{i}", elem_classes=["eval-slot"]) as group:
            header = gr.Markdown("", label="Errors", show_label=False, elem_id=f"eval-slot-{i}-header")
            gold = gr.HighlightedText(label="Gold", show_legend=False, combine_adjacent=False, elem_id=f"eval-slot-{i}-gold", elem_classes=["chips"])
            pred = gr.HighlightedText(label="Predicted (✗ = part of an error)", show_legend=False, combine_adjacent=False,
                                      elem_id=f"eval-slot-{i}-pred", elem_classes=["chips"])
        slots.append((group, header, gold, pred))
    return types, kinds, sort_by, page, prev_btn, next_btn, page_line, slots


def build(ctx: AppContext) -> EvaluateTab:
    """Lay the tab out (call inside ``gr.Tab(..., id="evaluate")``)."""
    inputs = _input_section(ctx)
    *results, compare_box = _results_section()
    browser = _browser_section()
    return EvaluateTab(*inputs, *results, *browser, gr.State(None), compare_box)


def build_run_button() -> gr.Button:
    """A button that opens this tab with the analysis of a run's dev set, under the Fine-tune tab's
    results (shown once a run is done; the Runs tab has its own, for the picked run)."""
    return gr.Button("Analyse errors on the dev set (Evaluate tab)", visible=False, elem_id="eval-run-button")


def wire(ctx: AppContext, ui: EvaluateTab, blocks: gr.Blocks, who: Identity, loaded: Any) -> None:
    """Connect the tab's events (call inside the ``gr.Blocks`` context)."""
    quiet = {"queue": False, "api_visibility": "private"}
    # the old results go first (an error leaves none behind, and the progress text has the summary's place to itself)
    evaluated = ui.run_btn.click(cleared, None, ui.results, **quiet, show_progress="hidden").then(
        bind(ctx, evaluate), [ui.data_file, ui.model, ui.compare_with, ui.label_column, who.token], ui.results,
        api_name="evaluate", concurrency_limit=1, concurrency_id="evaluate", show_progress_on=[ui.summary], validator=check_inputs,
    )
    evaluated.then(bind(ctx, first_page), ui.filters, ui.page_outputs, **quiet)
    evaluated.success(open_comparison, ui.compare_with, ui.compare_box, **quiet)
    for trigger in (ui.types.change, ui.kinds.change, ui.sort_by.change):
        trigger(bind(ctx, first_page), ui.filters, ui.page_outputs, **quiet)
    ui.page.submit(bind(ctx, browse), [*ui.filters, ui.page], ui.page_outputs, **quiet)
    ui.prev_btn.click(bind(ctx, previous_page), [*ui.filters, ui.page], ui.page_outputs, **quiet)
    ui.next_btn.click(bind(ctx, next_page), [*ui.filters, ui.page], ui.page_outputs, **quiet)
    for trigger in (ui.refresh.click, loaded.then):
        trigger(bind(ctx, refresh_models), [ui.model, ui.compare_with, who.token], [ui.model, ui.compare_with], **quiet)


def open_run_analysis(ctx: AppContext, ui: EvaluateTab, button: gr.Button, run_name: Any, tabs: gr.Tabs,
                      who: Identity) -> None:
    """Clicking ``button`` opens this tab with the analysis of the dev set of the run named in
    ``run_name`` (a component holding a model name)."""
    quiet = {"queue": False, "api_visibility": "private"}
    button.click(to_evaluate_tab, None, tabs, **quiet).then(cleared, None, ui.results, **quiet, show_progress="hidden").then(
        bind(ctx, evaluate_run), [run_name, who.token], [ui.model, *ui.results], api_visibility="private",
        concurrency_limit=1, concurrency_id="evaluate", show_progress_on=[ui.summary],
    ).then(bind(ctx, first_page), ui.filters, ui.page_outputs, **quiet)


def follow_training(ctx: AppContext, ui: EvaluateTab, button: gr.Button, new_name: gr.Textbox, tabs: gr.Tabs,
                    who: Identity) -> None:
    """``button`` (see :func:`build_run_button`) appears when ``new_name`` shows a finished run;
    clicking it opens this tab with the analysis of that run's dev set."""
    new_name.change(show_run_button, new_name, button, queue=False, api_visibility="private")
    # the new run is in both pickers at once (not only after a reload)
    new_name.change(bind(ctx, refresh_models), [ui.model, ui.compare_with, who.token], [ui.model, ui.compare_with], queue=False,
                    api_visibility="private")
    open_run_analysis(ctx, ui, button, new_name, tabs, who)
