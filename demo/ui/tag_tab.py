"""The Tag tab: text in, entities out (highlighted text, tables, JSON) with a model selector.

Handlers are module-level functions taking the :class:`~demo.service.app_context.AppContext` first, so
tests call them without a server; :func:`build` lays the tab out (inside ``gr.Tab``) and
returns its components as :class:`TagTab`; :func:`wire` connects events. Public API:
``/tag`` (parameters ``text``, ``model_name``, ``owner_token``: with private runs, a run is
found only for its owner; ``threshold``, last and optional: entities whose score is below it are
left out). Concurrent ``/tag`` requests are tagged together (:class:`demo.service.batching.Batcher`).
The "Tag a file" panel under the results is :mod:`demo.ui.tag_file` (``/tag_file``).
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Any

import gradio as gr

from demo.service.app_context import AppContext
from demo.service.registry import UnknownModel
from tagger.bulk import check_threshold
from tagger.errors import InputError, ModelError
from tagger.language import mismatch

from . import render, tag_file
from .examples import EXAMPLE_LABELS, EXAMPLES
from .identity import Identity, caller
from .plumbing import bind, named, user_errors

NO_MODEL = "No model available yet: train one in the Fine-tune tab."


# ---------------------------------------------------------------------------------- handlers
@user_errors
def tag(ctx: AppContext, text: str, model_name: str, owner_token: str = "", request: gr.Request | None = None,
        threshold: float = 0.0) -> tuple[Any, ...]:
    """-> (entities, per-word tags, JSON value, entity table, word table, info line). ``threshold``:
    entities scored below it (the mean confidence of their words) are left out; the per-word view
    keeps every word's own tag. (Gradio puts ``request`` in by its type: the API's parameters are
    ``text, model_name, owner_token, threshold``; direct callers keep passing the request fourth.)"""
    if not isinstance(text, str) or not text.strip():
        raise InputError("Type or paste some text to tag first.")
    threshold = check_threshold(threshold)
    owner = caller(owner_token, request).owner
    entry = ctx.registry.get(model_name, owner)  # UnknownModel
    predictor = ctx.registry.predictor(model_name, owner)  # ModelError: a broken model folder
    low = ctx.settings.low_confidence
    t0 = time.perf_counter()
    pred = ctx.tagging.predict(predictor, text, str(entry.path))  # with the requests that come with it; InputError past MAX_TEXT_CHARS
    seconds = time.perf_counter() - t0
    kept = tuple(e for e in pred.entities if e.score >= threshold)
    dropped, pred = len(pred.entities) - len(kept), dataclasses.replace(pred, entities=kept)
    record = entry.run.record if entry.run is not None else ctx.tagging.record(entry.path)
    warning = render.language_warning(mismatch(text, record.language), model_name, record)
    entities = render.entity_value(pred)
    info = render.tag_info(pred, model_name, seconds, low, warning)
    if dropped:
        info += f"; {dropped:,} entit{'ies' if dropped != 1 else 'y'} scored below the threshold {threshold:g} left out"
    if ctx.tagging.serving.backend(predictor) == "onnx":
        info += " · ONNX Runtime"
    return entities, render.word_value(pred, low), entities, entity_rows(pred, low), word_rows(pred, low), info


def entity_rows(pred: Any, low: float) -> dict[str, Any]:
    """The entity table's value: rows as lists (the Dataframe takes them as they are; a pandas frame per answer,
    built and converted back, was about a tenth of the app's busy time under load: docs/BENCHMARKS.md "Serving")."""
    rows = [[e.text, e.label, round(e.score, 3), render.flag(e.score, low), e.start, e.end] for e in pred.entities]
    return {"headers": render.ENTITY_COLUMNS, "data": rows}


def word_rows(pred: Any, low: float) -> dict[str, Any]:
    rows = [[i + 1, w.text, w.label, round(w.score, 3), render.flag(w.score, low)] for i, w in enumerate(pred.words)]
    return {"headers": render.WORD_COLUMNS, "data": rows}


def check_text(text: Any, model_name: Any, owner_token: Any = "", threshold: Any = 0.0) -> tuple[Any, ...]:
    """Validator of ``/tag``'s inputs (runs before it, without the queue): an empty text, no model or a
    threshold outside 0..1 is shown at the input itself, and the tagging does not run (no error marks
    on the results)."""
    has_text = isinstance(text, str) and bool(text.strip())
    return (gr.validate(has_text, "Type or paste some text to tag first."),
            gr.validate(bool(model_name), NO_MODEL), gr.validate(True, ""), tag_file.validate_threshold(threshold))


async def check_text_now(text: Any, model_name: Any, owner_token: Any = "", threshold: Any = 0.0) -> tuple[Any, ...]:
    """:func:`check_text` run in the server's event loop (it only looks at its inputs): a sync validator
    costs every request a hop to a worker thread and back."""
    return check_text(text, model_name, owner_token, threshold)


def cleared() -> tuple[Any, ...]:
    """Empty results (Clear, and a Tag click before its answer comes): no old results stay behind."""
    return None, None, None, render.empty_table(render.ENTITY_COLUMNS), render.empty_table(render.WORD_COLUMNS), ""


def describe(ctx: AppContext, model_name: str | None, owner: str | None = None) -> str:
    """Markdown summary of a model (base, labels, scores); a warning line when it cannot be read."""
    if not model_name:
        return NO_MODEL
    try:
        entry = ctx.registry.get(model_name, owner)
        return render.model_card(entry.name, entry.source, ctx.registry.record(model_name, owner))
    except UnknownModel as err:
        return f"⚠ {render.md(err)}"
    except ModelError as err:
        return f"⚠ cannot read the model's metadata: {render.md(err)}"


def color_maps(ctx: AppContext, model_name: str | None, owner: str | None = None) -> tuple[dict[str, str], dict[str, str]]:
    """Entity-type and raw-tag colours of a model (set when the model is chosen, not per answer,
    so the API returns plain HighlightedText values)."""
    try:
        labels = list(ctx.registry.record(model_name, owner).labels) if model_name else []
    except (UnknownModel, ModelError):
        labels = []
    return render.color_map(render.model_types(labels)), render.word_color_map(labels)


@user_errors
def select_model(ctx: AppContext, model_name: str | None, owner_token: str = "", request: gr.Request | None = None) -> tuple[Any, ...]:
    owner = caller(owner_token, request).owner
    ent_map, word_map = color_maps(ctx, model_name, owner)
    return describe(ctx, model_name, owner), gr.HighlightedText(color_map=ent_map), gr.HighlightedText(color_map=word_map)


@user_errors
def refresh_models(ctx: AppContext, current: str | None, owner_token: str = "", request: gr.Request | None = None) -> tuple[Any, ...]:
    """The caller's model list now (runs trained meanwhile appear), keeping the choice if it still exists."""
    names = ctx.registry.names(caller(owner_token, request).owner)
    value = current if current in names else (names[0] if names else None)
    return (gr.Dropdown(choices=names, value=value), *select_model(ctx, value, owner_token, request))


@user_errors
def after_training(ctx: AppContext, new_name: str, current: str | None, owner_token: str = "",
                   request: gr.Request | None = None) -> tuple[Any, ...]:
    """After a training run (or "use in Tag tab" in the Runs view): that model becomes this browser's choice."""
    return refresh_models(ctx, new_name or current, owner_token, request)


@user_errors
def toggle_raw(raw: bool) -> tuple[Any, Any]:
    return gr.HighlightedText(visible=not raw), gr.HighlightedText(visible=raw)


# ---------------------------------------------------------------------------------- layout
@dataclass
class TagTab:
    text: gr.Textbox
    tag_btn: gr.Button
    clear_btn: gr.Button
    model: gr.Dropdown
    refresh: gr.Button
    model_md: gr.Markdown
    raw: gr.Checkbox
    ent_hl: gr.HighlightedText
    word_hl: gr.HighlightedText
    ent_json: gr.JSON
    ent_table: gr.Dataframe
    word_table: gr.Dataframe
    info: gr.Markdown
    examples: gr.Examples
    threshold: gr.Slider  # entities scored below it are left out (single texts and files)
    files: tag_file.FilePanel  # "Tag a file"

    @property
    def model_outputs(self) -> list[Any]:
        """What :func:`select_model` updates (``refresh_models`` also updates ``model`` first)."""
        return [self.model_md, self.ent_hl, self.word_hl]


def _input_column(ctx: AppContext, first: str | None) -> tuple[Any, ...]:
    with gr.Row():
        with gr.Column(scale=3):
            text = gr.Textbox(label="Text", lines=6, max_lines=20, placeholder="Paste or type text to tag…", elem_id="tag-text")
            with gr.Row():
                tag_btn = gr.Button("Tag", variant="primary", elem_id="tag-button")
                clear_btn = gr.Button("Clear", elem_id="tag-clear")
        with gr.Column(scale=2):
            with gr.Row():
                model = gr.Dropdown(choices=ctx.registry.names(), value=first, label="Model", allow_custom_value=True,
                                    scale=4, elem_id="model-select")
                refresh = gr.Button("↻", scale=0, min_width=48)
            threshold = named(gr.Slider(0, 1, value=0, step=0.05, label="Confidence threshold", elem_id="tag-threshold",
                                        info="entities whose score (the mean confidence of their words) is below it are left out; "
                                             "files too"))
            model_md = gr.Markdown(describe(ctx, first), label="Model summary", show_label=False, elem_id="model-summary")
    return text, tag_btn, clear_btn, model, refresh, model_md, threshold


def build(ctx: AppContext) -> TagTab:
    """Lay the tab out (call inside ``gr.Tab``)."""
    names = ctx.registry.names()
    first = names[0] if names else None
    low = ctx.settings.low_confidence
    text, tag_btn, clear_btn, model, refresh, model_md, threshold = _input_column(ctx, first)
    examples = gr.Examples(examples=[[t] for t in EXAMPLES], inputs=[text], example_labels=EXAMPLE_LABELS,
                           label="Examples (click one to tag it)")
    raw = gr.Checkbox(label="Show raw per-word tags (B-/I-/O) instead of entities", value=False)
    ent_map, word_map = color_maps(ctx, first)
    ent_hl = gr.HighlightedText(label="Entities", show_legend=True, combine_adjacent=False, color_map=ent_map,
                                elem_id="entities-view", elem_classes=["chips"])
    word_hl = gr.HighlightedText(label=f"Per-word tags (⚠ = confidence below {low:g})", show_legend=False,
                                 show_inline_category=True, combine_adjacent=False, color_map=word_map, visible=False,
                                 elem_id="words-view", elem_classes=["chips"])
    info = gr.Markdown(label="Summary", show_label=False, elem_id="tag-info")
    with gr.Row():
        ent_table = gr.Dataframe(render.empty_table(render.ENTITY_COLUMNS), label="Entities (confidence; ⚠ = low)",
                                 interactive=False, max_height=360, wrap=True, column_widths=["34%", "13%", "17%", "12%", "12%", "12%"],
                                 elem_id="entity-table")
        word_table = gr.Dataframe(render.empty_table(render.WORD_COLUMNS), label=f"Words (⚠ = confidence below {low:g})",
                                  interactive=False, max_height=360, wrap=True, column_widths=["10%", "34%", "20%", "20%", "16%"],
                                  elem_id="word-table")
    with gr.Accordion("JSON (HighlightedText value with scores)", open=False):
        ent_json = gr.JSON(label="Entities JSON", show_label=False)
    files = tag_file.build(ctx)
    return TagTab(text, tag_btn, clear_btn, model, refresh, model_md, raw, ent_hl, word_hl, ent_json, ent_table, word_table, info, examples,
                  threshold, files)


def wire(ctx: AppContext, ui: TagTab, blocks: gr.Blocks, who: Identity, loaded: Any) -> None:
    """Connect the tab's events (call inside the ``gr.Blocks`` context); ``loaded`` is the page-load
    event that sets the owner token (:func:`demo.ui.identity.wire`)."""
    inputs = [ui.text, ui.model, who.token, ui.threshold]  # the threshold last: /tag's first three parameters stay
    outputs = [ui.ent_hl, ui.word_hl, ui.ent_json, ui.ent_table, ui.word_table, ui.info]
    # with batching, as many requests run at once as the batches take (they wait for the batcher); else two
    tagged = {"validator": check_text_now, "concurrency_limit": ctx.tagging.concurrency, "concurrency_id": "tag"}
    quiet = {"queue": False, "api_visibility": "private", "show_progress": "hidden"}
    # the old results go first (then in order, not side by side: an answer must not be wiped by a late clear)
    ui.tag_btn.click(cleared, None, outputs, **quiet).then(bind(ctx, tag), inputs, outputs, api_name="tag", **tagged)
    ui.text.submit(cleared, None, outputs, **quiet).then(bind(ctx, tag), inputs, outputs, api_visibility="private", **tagged)
    ui.clear_btn.click(lambda: ("", *cleared()), None, [ui.text, *outputs], queue=False, api_visibility="private")
    # an example, once in the text box, is tagged at once
    ui.examples.load_input_event.then(bind(ctx, tag), inputs, outputs, api_visibility="private", **tagged)
    ui.raw.change(toggle_raw, ui.raw, [ui.ent_hl, ui.word_hl], queue=False, api_visibility="private")
    ui.model.change(bind(ctx, select_model), [ui.model, who.token], ui.model_outputs, queue=False, api_visibility="private")
    for trigger in (ui.refresh.click, loaded.then):
        trigger(bind(ctx, refresh_models), [ui.model, who.token], [ui.model, *ui.model_outputs], queue=False,
                api_visibility="private")
    tag_file.wire(ctx, ui.files, ui.model, ui.threshold, who, loaded)


def follow_training(ctx: AppContext, ui: TagTab, new_name: gr.Textbox, who: Identity) -> None:
    """When ``new_name`` shows a new model (a job of this browser finished, or "use in Tag tab"
    in the Runs view), select it here."""
    new_name.change(bind(ctx, after_training), [new_name, ui.model, who.token], [ui.model, *ui.model_outputs], queue=False,
                    api_visibility="private")
