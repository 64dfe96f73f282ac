"""The Gradio Blocks app: layout and wiring only; the handlers live in one module per tab.

``demo/ui/`` (Gradio) sits on ``demo/service/`` (no Gradio), which sits on the library ``tagger/``:

- ``app.py``        :func:`build_app`: the page (intro, tabs), each tab's ``build``/``wire``, the queue.
- ``plumbing.py``   ``user_errors`` (TaggerError -> gr.Error, anything else logged + "internal error"),
  ``bind`` (handler(ctx, ...) -> listener), ``named``, the theme and CSS.
- ``tag_tab.py``    the Tag tab (``/tag``) with ``tag_file.py`` (its "Tag a file" panel, ``/tag_file``); ``train_tab.py`` the Fine-tune tab (``/data_report``, ``/train``,
  ``/status``, ``/cancel``) with ``data_panel.py``/``data_view.py`` (uploads, format, preview);
  ``runs_tab.py`` the Runs tab (``/models``, ``/download``, ``/rename``, ``/delete``);
  ``evaluate_tab.py`` the Evaluate tab (``/evaluate``) with its pure ``evaluate_view.py``.
- ``identity.py``   the owner token kept in the browser (``gr.BrowserState``) and passed as ``owner_token``.
- ``render.py``     predictions, reports and scores -> component values (pure); ``examples.py``.

A new tab is a module ``demo/ui/<name>_tab.py`` with module-level handlers ``f(ctx, ...)``
decorated with ``@user_errors``, a ``build(ctx) -> <Name>Tab`` (components, inside ``gr.Tab``)
and a ``wire(ctx, ui, blocks, ...)``; add both calls below.
"""

from __future__ import annotations

import atexit

import gradio as gr

from demo.service.app_context import AppContext
from demo.service.settings import AppSettings
from tagger.meta import MAX_TEXT_CHARS

from . import correct_tab, evaluate_tab, identity, runs_tab, tag_tab, train_tab
from .plumbing import bind, launch_kwargs

TITLE = "BERT tagger"
INTRO = f"""# {TITLE}
Tag named entities (or any token labels) with a fine-tuned BERT-style model, or fine-tune your own
on your labeled data (CoNLL, CoNLL-U, doccano / Prodigy / Label Studio exports, `datasets` files, spaCy, CSV). Texts up to {MAX_TEXT_CHARS:,} characters."""

__all__ = ["AppContext", "build_app", "launch_kwargs"]


def build_app(settings: AppSettings | None = None) -> tuple[gr.Blocks, AppContext]:
    """The Blocks (queue configured) and its :class:`AppContext`; ``blocks.launch(**launch_kwargs())``."""
    ctx = AppContext(settings or AppSettings.from_env())
    atexit.register(ctx.close)
    with gr.Blocks(title=TITLE, analytics_enabled=False, delete_cache=(1800, 7200)) as blocks:
        gr.Markdown(INTRO)
        who = identity.build(ctx)
        form_state = train_tab.form_memory(ctx)  # browser storage lives outside the tabs (they mount lazily)
        with gr.Tabs() as tabs:
            with gr.Tab("Tag", id="tag"):
                tag_ui = tag_tab.build(ctx)
            with gr.Tab("Fine-tune", id="train"):
                train_ui = train_tab.build(ctx, form_state)
                dev_analysis_btn = evaluate_tab.build_run_button()  # under the run's results
            with gr.Tab("Runs", id="runs"):
                runs_ui = runs_tab.build(ctx)
            with gr.Tab("Evaluate", id="evaluate"):
                eval_ui = evaluate_tab.build(ctx)
            with gr.Tab("Correct", id="correct"):
                correct_ui = correct_tab.build(ctx)
        loaded = identity.wire(ctx, who, blocks)  # the owner token first; the tabs' load work follows it
        tag_tab.wire(ctx, tag_ui, blocks, who, loaded)
        train_tab.wire(ctx, train_ui, blocks, who, loaded)
        runs_tab.wire(ctx, runs_ui, blocks, who, loaded, tabs, train_ui.model_name_out)
        for picked in (train_ui.model_name_out, runs_ui.chosen):  # a finished job, or "Use in Tag tab"
            tag_tab.follow_training(ctx, tag_ui, picked, who)
        evaluate_tab.wire(ctx, eval_ui, blocks, who, loaded)
        evaluate_tab.follow_training(ctx, eval_ui, dev_analysis_btn, train_ui.model_name_out, tabs, who)
        evaluate_tab.open_run_analysis(ctx, eval_ui, runs_ui.evaluate_btn, runs_ui.picker, tabs, who)
        correct_tab.wire(ctx, correct_ui, blocks, who, loaded)
        train_ui.model_name_out.change(bind(ctx, correct_tab.refresh), [correct_ui.model, correct_ui.dataset, who.token],
                                       [correct_ui.model, correct_ui.dataset, correct_ui.summary], queue=False,
                                       api_visibility="private")  # a new run can suggest at once
    # one bounded queue for every queued event (/tag and /tag_file too): a full queue refuses at once ("busy")
    blocks.queue(max_size=ctx.settings.queue_max_size, default_concurrency_limit=2)
    ctx.start_warm_up()
    return blocks, ctx
