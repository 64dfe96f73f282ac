"""The Gradio Blocks app: layout and wiring only; the handlers live in one module per tab.

Layout of ``demo/``:

- ``app.py``        :func:`build_app`: the page (intro, tabs), each tab's ``build``/``wire``, the queue.
- ``context.py``    ``AppContext`` (settings, registry, jobs, zips), ``user_errors`` (TaggerError ->
  gr.Error, anything else logged + "internal error"), ``bind`` (handler(ctx, ...) -> listener).
- ``evaluate_tab.py`` the Evaluate tab (``/evaluate``: scores, error types, confusion heat map, error
  browser, downloads, two models compared; ``evaluate_view.py`` its pure value builders).
- ``tag_tab.py``    the Tag tab (``/tag``); ``train_tab.py`` the Fine-tune tab (``/data_report``, ``/train``,
  ``/status``, ``/cancel``); ``runs_tab.py`` the Runs tab (``/models``, ``/download``, ``/rename``, ``/delete``).
- ``identity.py``   the owner token kept in the browser (``gr.BrowserState``) and passed as ``owner_token``;
  ``owners.py`` who may see and change what.
- ``runs.py``       the runs on disk (listed at start-up, renamed, deleted, zipped, capped per owner);
  ``training.py``   the job queue (server-side jobs, first-in first-out, detached from any browser).
- ``events.py``     training events -> status text and plot points (pure).
- ``render.py``     predictions, reports and scores -> component values (pure).
- ``registry.py`` models by name (per caller); ``jobs.py`` the training worker process; ``uploads.py``;
  ``settings.py``; ``examples.py``; ``launch.py`` the command line (``tagger app``, ``app.py``).

A new tab is a module ``demo/<name>_tab.py`` with module-level handlers ``f(ctx, ...)``
decorated with ``@user_errors``, a ``build(ctx) -> <Name>Tab`` (components, inside ``gr.Tab``)
and a ``wire(ctx, ui, blocks)``; add both calls below.
"""

from __future__ import annotations

import atexit

import gradio as gr

from tagger.meta import MAX_TEXT_CHARS

from . import evaluate_tab, identity, runs_tab, tag_tab, train_tab
from .context import AppContext
from .settings import AppSettings

TITLE = "BERT tagger"
INTRO = f"""# {TITLE}
Tag named entities (or any token labels) with a fine-tuned BERT-style model, or fine-tune your own
on your labeled data (CoNLL, CoNLL-U, doccano / Prodigy / Label Studio exports, `datasets` files, spaCy, CSV). Texts up to {MAX_TEXT_CHARS:,} characters."""

__all__ = ["AppContext", "build_app"]


def build_app(settings: AppSettings | None = None) -> tuple[gr.Blocks, AppContext]:
    """The Blocks (queue configured) and its :class:`AppContext`; ``blocks.launch(**ctx.launch_kwargs())``."""
    ctx = AppContext(settings or AppSettings.from_env())
    atexit.register(ctx.close)
    with gr.Blocks(title=TITLE, analytics_enabled=False, delete_cache=(1800, 7200)) as blocks:
        gr.Markdown(INTRO)
        who = identity.build(ctx)
        with gr.Tabs() as tabs:
            with gr.Tab("Tag", id="tag"):
                tag_ui = tag_tab.build(ctx)
            with gr.Tab("Fine-tune", id="train"):
                train_ui = train_tab.build(ctx)
                dev_analysis_btn = evaluate_tab.build_run_button()  # under the run's results
            with gr.Tab("Runs", id="runs"):
                runs_ui = runs_tab.build(ctx)
                runs_eval_btn = evaluate_tab.build_run_button("Evaluate the run on its dev set", True, "run-evaluate")
            with gr.Tab("Evaluate", id="evaluate"):
                eval_ui = evaluate_tab.build(ctx)
        loaded = identity.wire(ctx, who, blocks)  # the owner token first; the tabs' load work follows it
        tag_tab.wire(ctx, tag_ui, blocks, who, loaded)
        train_tab.wire(ctx, train_ui, blocks, who, loaded)
        runs_tab.wire(ctx, runs_ui, blocks, who, loaded, tabs, train_ui.model_name_out)
        for picked in (train_ui.model_name_out, runs_ui.chosen):  # a finished job, or "Use in Tag tab"
            tag_tab.follow_training(ctx, tag_ui, picked, who)
        evaluate_tab.wire(ctx, eval_ui, blocks, who, loaded)
        evaluate_tab.follow_training(ctx, eval_ui, dev_analysis_btn, train_ui.model_name_out, tabs, who)
        evaluate_tab.open_run_analysis(ctx, eval_ui, runs_eval_btn, runs_ui.picker, tabs, who)
    blocks.queue(max_size=ctx.settings.queue_max_size, default_concurrency_limit=2)
    ctx.start_warm_up()
    return blocks, ctx
