"""The Gradio Blocks app: a Tag tab and a Fine-tune tab. UI only; the work is in ``tagger``.

``build_app(settings)`` returns the Blocks (queue configured) and an :class:`AppContext`
holding the model registry and the training-job manager. ``app.py`` launches it.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import tempfile
import threading
import time
import zipfile
from pathlib import Path
from typing import Any

import gradio as gr

from tagger.config import HEADS, ConfigError, TrainConfig
from tagger.data import DataError, read_file
from tagger.predict import MAX_TEXT_CHARS, InputError

from . import render
from .examples import EXAMPLE_LABELS, EXAMPLES
from .jobs import JobManager
from .registry import DEFAULT_NAME, ModelRegistry, UnknownModel, max_positions, read_meta
from .settings import AppSettings
from .uploads import inspect_upload

log = logging.getLogger(__name__)
def _named(component: Any) -> Any:
    """Make an out-of-range value sent through the API fail with the setting's name in the
    message (gradio's own says only "Value 1000 is greater than maximum value 128"). Wraps the
    instance's ``preprocess``: a subclass would make gradio write a .pyi stub beside this file."""
    check = component.preprocess

    def preprocess(payload: Any) -> Any:
        try:
            return check(payload)
        except gr.Error as err:
            raise gr.Error(f"{component.label}: {err.message}") from None

    component.preprocess = preprocess
    return component


_PROGRESS = gr.Progress()  # Gradio injects a tracker where a parameter defaults to a Progress

CONTINUE_DEFAULT = "default tagger (continue training it)"
MAX_UPLOAD_BYTES = 50_000_000  # tagger.data.MAX_FILE_BYTES; Gradio refuses bigger uploads itself
KEEP_ZIPS = 3
TITLE = "BERT tagger"
CSS = """
#tag-info p, #train-status p { margin: 0; }
footer { display: none !important; }
"""

INTRO = f"""# {TITLE}
Tag named entities (or any token labels) with a fine-tuned BERT-style model, or fine-tune your own
on a CoNLL / JSONL file. Texts up to {MAX_TEXT_CHARS:,} characters."""


class AppContext:
    """Everything the callbacks share: settings, model registry, training jobs, temp files."""

    def __init__(self, settings: AppSettings) -> None:
        self.settings = settings
        self.registry = ModelRegistry(
            settings.default_model, settings.models_dirs, settings.app_models_dir, settings.max_app_models
        )
        self.jobs = JobManager(prewarm=settings.prewarm_worker, grace=settings.cancel_grace_s)
        self.zip_dir = Path(tempfile.mkdtemp(prefix="bert-tagger-zips-"))
        self.warm = threading.Event()
        self._closed = False

    def warm_up(self) -> None:
        """Load the default model and run it once (spaCy, torch kernels), then start a spare worker."""
        try:
            if self.settings.warmup and DEFAULT_NAME in self.registry.names():
                self.registry.predictor(DEFAULT_NAME).predict("Warm-up sentence from Paris.")
        except Exception:  # start-up must go on; the first Tag click shows the real error
            log.exception("warm-up of the default model failed")
        finally:
            self.warm.set()
        self.jobs.prewarm()

    def make_zip(self, name: str, folder: Path) -> Path:
        """The model folder as ``<name>.zip`` holding ``<name>/...`` (weights stored, not deflated)."""
        target = self.zip_dir / f"{name}.zip"
        with zipfile.ZipFile(target, "w") as zf:
            for f in sorted(folder.rglob("*")):
                if f.is_file():
                    method = zipfile.ZIP_STORED if f.suffix == ".safetensors" else zipfile.ZIP_DEFLATED
                    zf.write(f, f"{name}/{f.relative_to(folder)}", compress_type=method)
        for old in sorted(self.zip_dir.glob("*.zip"), key=lambda p: p.stat().st_mtime)[:-KEEP_ZIPS]:
            old.unlink(missing_ok=True)
        return target

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.jobs.shutdown()
        shutil.rmtree(self.zip_dir, ignore_errors=True)

    def launch_kwargs(self) -> dict[str, Any]:
        theme = gr.themes.Soft(
            primary_hue="indigo",
            font=["ui-sans-serif", "system-ui", "Segoe UI", "Roboto", "sans-serif"],  # no web-font download
            font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "monospace"],
        )
        return {"theme": theme, "css": CSS, "max_file_size": MAX_UPLOAD_BYTES}


def _error(message: str) -> gr.Error:
    """A user-facing error (Gradio renders the message as HTML, so it is escaped)."""
    return gr.Error(render.plain(message), print_exception=False)


def _int(value: Any, what: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise _error(f"{what} must be a whole number, got {value!r}") from None


def _float(value: Any, what: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise _error(f"{what} must be a number, got {value!r}") from None


def build_app(settings: AppSettings | None = None) -> tuple[gr.Blocks, AppContext]:
    settings = settings or AppSettings.from_env()
    ctx = AppContext(settings)
    atexit.register(ctx.close)
    registry, low = ctx.registry, settings.low_confidence
    bases = dict(settings.bases)

    def base_choices() -> list[str]:
        names = list(bases)
        if DEFAULT_NAME in registry.names():
            names.append(CONTINUE_DEFAULT)
        return names

    # ------------------------------------------------------------------ Tag tab callbacks
    def tag(text: str, model_name: str) -> tuple[Any, ...]:
        if not isinstance(text, str) or not text.strip():
            raise _error("Type or paste some text to tag first.")
        if len(text) > MAX_TEXT_CHARS:
            raise _error(f"The text has {len(text):,} characters; the limit is {MAX_TEXT_CHARS:,}. Split it into parts.")
        try:
            predictor = registry.predictor(model_name)
        except UnknownModel as err:
            raise _error(str(err)) from None
        except (ValueError, OSError) as err:  # ModelError: a broken model folder
            raise _error(f"Cannot load model {model_name!r}: {err}") from None
        t0 = time.perf_counter()
        try:
            pred = predictor.predict(text)
        except InputError as err:
            raise _error(str(err)) from None
        seconds = time.perf_counter() - t0
        entities = render.entity_value(pred)
        return (
            entities,
            render.word_value(pred, low),
            entities,
            render.entity_table(pred, low),
            render.word_table(pred, low),
            render.tag_info(pred, model_name, seconds, low),
        )

    def describe(model_name: str | None) -> str:
        if not model_name:
            return "No model available yet: train one in the Fine-tune tab."
        try:
            return render.model_summary(registry.summary(model_name))
        except UnknownModel as err:
            return f"⚠ {render.md(err)}"
        except (ValueError, OSError) as err:
            return f"⚠ cannot read the model's metadata: {render.md(err)}"

    def color_maps(model_name: str | None) -> tuple[dict[str, str], dict[str, str]]:
        """Entity-type and raw-tag colours of a model (set when the model is chosen, not per answer,
        so the API returns plain HighlightedText values)."""
        try:
            labels = list(registry.summary(model_name).get("labels") or []) if model_name else []
        except (ValueError, OSError):
            labels = []
        return render.color_map(render.model_types(labels)), render.word_color_map(labels)

    def select_model(model_name: str | None) -> tuple[Any, ...]:
        ent_map, word_map = color_maps(model_name)
        return describe(model_name), gr.HighlightedText(color_map=ent_map), gr.HighlightedText(color_map=word_map)

    def refresh_models(current: str | None) -> tuple[Any, ...]:
        names = registry.names()
        value = current if current in names else (names[0] if names else None)
        return (gr.Dropdown(choices=names, value=value), *select_model(value))

    def after_training(new_name: str, current: str | None) -> tuple[Any, ...]:
        return refresh_models(new_name or current)

    def toggle_raw(raw: bool) -> tuple[Any, Any]:
        return gr.HighlightedText(visible=not raw), gr.HighlightedText(visible=raw)

    # ------------------------------------------------------------------ Fine-tune callbacks
    def inspect(train_file: str | None, dev_file: str | None, label_column: Any) -> tuple[Any, ...]:
        if not train_file:
            return ("Upload a training file: CoNLL columns (word … label) or JSONL with tokens/tags.",
                    gr.Dropdown(visible=False, choices=[("last column", -1)], value=-1), render.labels_table_empty())
        col = _int(label_column if label_column not in (None, "") else -1, "label column")
        try:
            info = inspect_upload(train_file, col)
            dev = read_file(dev_file, info.label_column).report if dev_file else None
        except DataError as err:
            gr.Warning(render.plain(err))
            return (f"❌ {render.md(err)}", gr.Dropdown(), render.labels_table_empty())
        text = render.report_markdown(info.report, dev)
        default_labels = read_meta(registry.get(DEFAULT_NAME).path).get("labels") if DEFAULT_NAME in registry.names() else None
        if default_labels is not None:
            same = info.labels == list(default_labels)
            text += "  \n" + ("✓ same labels as the default tagger: you can continue training it" if same else
                              "note: labels differ from the default tagger, so start from a base encoder")
        picker = (
            gr.Dropdown(choices=info.column_choices, value=info.label_column, visible=True)
            if info.column_choices else gr.Dropdown(choices=[("last column", -1)], value=-1, visible=False)
        )
        return text, picker, render.labels_table(info.report)

    def prepare(train_file: Any, dev_file: Any, base_label: Any, head: Any, epochs: Any, lr: Any, batch_size: Any,
                max_length: Any, label_column: Any) -> tuple[TrainConfig, str, str | None]:
        if not train_file:
            raise _error("Upload a training file first.")
        col = _int(label_column if label_column not in (None, "") else -1, "label column")
        try:
            train_info = inspect_upload(train_file, col)
            dev_info = read_file(dev_file, train_info.label_column) if dev_file else None
        except DataError as err:
            raise _error(str(err)) from None
        if not train_info.labels:
            raise _error("The training data has a single label (O everywhere?); a tagger needs at least two.")
        if dev_info is None and train_info.report.sentences < 2:
            raise _error("The training file has one sentence; upload a dev file or more data.")
        head = head if head in HEADS else TrainConfig.head
        if base_label == CONTINUE_DEFAULT and DEFAULT_NAME in registry.names():
            entry = registry.get(DEFAULT_NAME)
            meta = read_meta(entry.path)
            if list(meta.get("labels", [])) != train_info.labels:
                raise _error(
                    f"The default tagger's labels ({', '.join(render.model_types(meta.get('labels', [])))}) differ from "
                    f"this data's ({', '.join(render.model_types(train_info.labels))}); start from a base encoder instead."
                )
            base, head = str(entry.path), (meta.get("config") or {}).get("head", head)
        elif base_label in bases:
            base = bases[base_label]
        else:
            raise _error(f"Unknown base model {str(base_label)[:80]!r}; choose one of: {', '.join(base_choices())}.")
        from tagger.model import ModelError, resolve_base

        try:
            limit = max_positions(resolve_base(base))
        except ModelError as err:
            raise _error(str(err)) from None
        length = _int(max_length, "max length")
        if limit is not None and length > limit:
            raise _error(f"Max length {length} is more than the base model's limit of {limit} positions.")
        try:
            config = TrainConfig(
                base=base, head=head, epochs=_int(epochs, "epochs"), lr=_float(lr, "learning rate"),
                batch_size=_int(batch_size, "batch size"), max_length=length, label_column=train_info.label_column,
                threads=settings.train_threads or os.cpu_count() or 1,
            )
        except ConfigError as err:
            raise _error(f"Invalid setting: {err}") from None
        return config, str(train_file), str(dev_file) if dev_file else None

    def train(train_file: Any, dev_file: Any, base_label: Any, head: Any, epochs: Any, lr: Any, batch_size: Any,
              max_length: Any, label_column: Any, request: gr.Request, progress: gr.Progress = _PROGRESS) -> Any:
        config, train_path, dev_path = prepare(train_file, dev_file, base_label, head, epochs, lr, batch_size, max_length,
                                               label_column)
        name, out = registry.new_model_dir()
        spec = {"config": config.to_dict(), "train": train_path, "dev": dev_path, "out": str(out), "name": name}
        try:
            job = ctx.jobs.start(spec)
        except RuntimeError as err:
            raise _error(f"Cannot start training: {err}") from None
        job.session = getattr(request, "session_hash", None)
        registered = False
        loss_pts: list[tuple[float, float]] = []
        f1_pts: list[tuple[float, float]] = []
        status = "Starting the training worker…"
        skip = gr.skip()
        try:
            progress(0.0, desc=status)
            yield status, render.loss_frame(loss_pts), render.f1_frame(f1_pts), render.scores_table_empty(), None, ""
            last_yield = time.monotonic()
            while not job.finished:
                events = job.poll(0.5)
                changed = False
                for ev in events:
                    kind = ev["kind"]
                    total = max(ev.get("total") or 1, 1)
                    if kind == "ready":
                        status = "Worker ready; loading the base model and the data…"
                    elif kind == "start":
                        status = f"Training: {config.epochs} epochs, {total:,} steps ({ev.get('message', '')})"
                    elif kind == "step" and ev.get("loss") is not None:
                        loss_pts.append((round(ev["epoch"], 4), ev["loss"]))
                        status = (f"Epoch {min(int(ev['epoch']) + 1, config.epochs)}/{config.epochs} · step {ev['step']:,}/"
                                  f"{total:,} · loss {ev['loss']:.4f} · {ev['elapsed']:.0f} s")
                        progress(ev["step"] / total, desc=status)
                    elif kind == "epoch" and ev.get("dev"):
                        f1_pts.append((ev["epoch"], ev["dev"]["f1"]))
                        status = f"Epoch {int(ev['epoch'])}/{config.epochs} done · dev F1 {ev['dev']['f1']:.2f}"
                        progress(ev["step"] / total, desc=status)
                        changed = True
                    elif kind == "saving":
                        status = "Saving the best epoch…"
                        progress(0.99, desc=status)
                    changed = changed or kind in ("ready", "start", "saving")
                now = time.monotonic()
                if changed or (events and now - last_yield >= 1.0):
                    last_yield = now
                    yield status, render.loss_frame(loss_pts), render.f1_frame(f1_pts), skip, skip, skip
            if job.state == "cancelled":
                yield "Training cancelled; no model was written.", skip, skip, skip, skip, ""
                return
            if job.state != "done" or job.result is None:
                raise _error(f"Training failed: {job.error}")
            registry.add_trained(name, out)
            registered = True
            dev = job.result["dev"]
            zip_path = ctx.make_zip(name, out)
            status = (f"✓ Done in {job.result['seconds']:.0f} s: best epoch {job.result['best_epoch']}, dev F1 "
                      f"**{dev['f1']:.2f}**. The model **{render.md(name)}** is now selectable in the Tag tab.")
            yield status, render.loss_frame(loss_pts), render.f1_frame(f1_pts), render.scores_table(dev), str(zip_path), name
        finally:
            if not registered and job.state == "done":  # Cancel clicked after the model was saved: keep it
                registry.add_trained(name, out)
                registered = True
            job.cancel(then=None if registered else (lambda: registry.discard(out)))

    def cancel(request: gr.Request) -> str:
        job = ctx.jobs.current
        session = getattr(request, "session_hash", None)
        if job is not None and job.session == session:
            if job.state == "done":  # finished before the click arrived: the model is saved, say so
                return f"Training had already finished; the model was kept as {job.spec['name']!r}."
            if not job.finished:
                job.cancel(then=lambda: ctx.registry.discard(Path(job.spec["out"])))
        return "Training cancelled; no model was written."

    def max_length_limit(base_label: str | None) -> int:
        """Positions the chosen base supports (capped at 512 for the slider)."""
        if base_label == CONTINUE_DEFAULT and DEFAULT_NAME in registry.names():
            base = str(registry.get(DEFAULT_NAME).path)
        else:
            base = bases.get(base_label or "", "")
        try:
            from tagger.model import resolve_base

            limit = max_positions(resolve_base(base)) if base else None
        except (ValueError, OSError):
            limit = None
        return min(limit or 512, 512)

    def base_changed(base_label: str) -> Any:
        limit = max_length_limit(base_label)
        return gr.Slider(maximum=limit, value=min(TrainConfig.max_length, limit))

    # ------------------------------------------------------------------ layout
    names = registry.names()
    first = names[0] if names else None
    first_base = next(iter(bases), None)
    with gr.Blocks(title=TITLE, analytics_enabled=False, delete_cache=(1800, 7200)) as blocks:
        gr.Markdown(INTRO)
        with gr.Tabs():
            with gr.Tab("Tag", id="tag"):
                with gr.Row():
                    with gr.Column(scale=3):
                        text = gr.Textbox(label="Text", lines=6, max_lines=20, placeholder="Paste or type text to tag…",
                                          elem_id="tag-text")
                        with gr.Row():
                            tag_btn = gr.Button("Tag", variant="primary", elem_id="tag-button")
                            gr.ClearButton([text], value="Clear")
                    with gr.Column(scale=2):
                        with gr.Row():
                            model = gr.Dropdown(choices=names, value=first, label="Model", allow_custom_value=True,
                                                scale=4, elem_id="model-select")
                            refresh = gr.Button("↻", scale=0, min_width=48)
                        model_md = gr.Markdown(describe(first) if first else "No model available yet: train one.",
                                               elem_id="model-summary")
                gr.Examples(examples=[[t] for t in EXAMPLES], inputs=[text], example_labels=EXAMPLE_LABELS, label="Examples")
                raw = gr.Checkbox(label="Show raw per-word tags (B-/I-/O) instead of entities", value=False)
                ent_map, word_map = color_maps(first)
                ent_hl = gr.HighlightedText(label="Entities", show_legend=True, combine_adjacent=False, color_map=ent_map,
                                            elem_id="entities-view")
                word_hl = gr.HighlightedText(label=f"Per-word tags (⚠ = confidence below {low:g})", show_legend=False,
                                             show_inline_category=True, combine_adjacent=False, color_map=word_map,
                                             visible=False, elem_id="words-view")
                info = gr.Markdown(elem_id="tag-info")
                with gr.Row():
                    ent_table = gr.Dataframe(label="Entities (confidence; ⚠ = low)", interactive=False, max_height=360,
                                             elem_id="entity-table")
                    word_table = gr.Dataframe(label=f"Words (⚠ = confidence below {low:g})", interactive=False,
                                              max_height=360, elem_id="word-table")
                with gr.Accordion("JSON (HighlightedText value with scores)", open=False):
                    ent_json = gr.JSON(show_label=False)

            with gr.Tab("Fine-tune", id="train"):
                with gr.Row():
                    train_file = gr.File(label="Training file (CoNLL columns or JSONL)", file_count="single",
                                         type="filepath", elem_id="train-file")
                    dev_file = gr.File(label="Dev file (optional; else 10% held out)", file_count="single",
                                       type="filepath", elem_id="dev-file")
                report_md = gr.Markdown("Upload a training file: CoNLL columns (word … label) or JSONL with tokens/tags.",
                                        elem_id="data-report")
                with gr.Row():
                    label_col = gr.Dropdown(choices=[("last column", -1)], value=-1, label="Label column",
                                            allow_custom_value=True, visible=False, elem_id="label-column")
                    labels_df = gr.Dataframe(value=render.labels_table_empty(), label="Labels in the training file",
                                             interactive=False, max_height=220)
                with gr.Accordion("Settings", open=True):
                    with gr.Row():
                        base = gr.Dropdown(choices=base_choices(), value=first_base, label="Start from", allow_custom_value=True,
                                           info="a base encoder, or the default tagger when the labels match")
                        head = gr.Radio(list(HEADS), value=TrainConfig.head, label="Head",
                                        info="casing adds a word-shape embedding; linear is plain BertForTokenClassification")
                    with gr.Row():
                        epochs = _named(gr.Slider(1, 20, value=TrainConfig.epochs, step=1, label="Epochs"))
                        lr = _named(gr.Number(value=TrainConfig.lr, label="Learning rate", minimum=1e-6, maximum=1e-2))
                        batch = _named(gr.Slider(1, 128, value=TrainConfig.batch_size, step=1, label="Batch size"))
                        # the server checks 16..512; the browser's maximum follows the chosen base
                        limit = max_length_limit(first_base)
                        max_len = _named(gr.Slider(16, 512, value=min(TrainConfig.max_length, limit), step=16,
                                                   label="Max length (sub-tokens)", elem_id="max-length"))
                with gr.Row():
                    start_btn = gr.Button("Start training", variant="primary", elem_id="train-button")
                    cancel_btn = gr.Button("Cancel", variant="stop", elem_id="cancel-button")
                train_status = gr.Markdown("", elem_id="train-status")
                with gr.Row():
                    loss_plot = gr.LinePlot(render.loss_frame([]), x="epoch", y="loss", title="Training loss", height=260,
                                            elem_id="loss-plot")
                    f1_plot = gr.LinePlot(render.f1_frame([]), x="epoch", y="dev F1", title="Dev F1 per epoch", height=260,
                                          elem_id="f1-plot")
                scores_df = gr.Dataframe(value=render.scores_table_empty(), label="Dev scores per type (best epoch)",
                                         interactive=False, elem_id="scores-table")
                with gr.Row():
                    zip_out = gr.File(label="Download the model (.zip, Hugging Face format)", interactive=False, height=90,
                                      elem_id="model-zip")
                    model_name_out = gr.Textbox(label="New model name", interactive=False, elem_id="model-name")

        # ---------------------------------------------------------------- events
        tag_inputs = [text, model]
        tag_outputs = [ent_hl, word_hl, ent_json, ent_table, word_table, info]
        tag_btn.click(tag, tag_inputs, tag_outputs, api_name="tag", concurrency_limit=2, concurrency_id="tag")
        text.submit(tag, tag_inputs, tag_outputs, api_visibility="private", concurrency_limit=2, concurrency_id="tag")
        raw.change(toggle_raw, raw, [ent_hl, word_hl], queue=False, api_visibility="private")
        model_outputs = [model_md, ent_hl, word_hl]
        model.change(select_model, model, model_outputs, queue=False, api_visibility="private")
        refresh.click(refresh_models, model, [model, *model_outputs], queue=False, api_visibility="private")
        blocks.load(refresh_models, model, [model, *model_outputs], queue=False, api_visibility="private")

        report_outputs = [report_md, label_col, labels_df]
        train_file.change(lambda f, d: inspect(f, d, -1), [train_file, dev_file], report_outputs, api_name="data_report",
                          concurrency_limit=4, concurrency_id="inspect")
        dev_file.change(inspect, [train_file, dev_file, label_col], report_outputs, api_visibility="private",
                        concurrency_limit=4, concurrency_id="inspect")
        label_col.input(inspect, [train_file, dev_file, label_col], report_outputs, api_visibility="private",
                        concurrency_limit=4, concurrency_id="inspect")
        base.change(base_changed, base, max_len, queue=False, api_visibility="private")
        blocks.load(base_changed, base, max_len, queue=False, api_visibility="private")

        train_evt = start_btn.click(
            train,
            [train_file, dev_file, base, head, epochs, lr, batch, max_len, label_col],
            [train_status, loss_plot, f1_plot, scores_df, zip_out, model_name_out],
            api_name="train",
            concurrency_limit=1,
            concurrency_id="train",
            show_progress_on=[train_status],
        )
        # the new model becomes the Tag tab's choice (in this browser; other sessions see it on refresh)
        train_evt.success(after_training, [model_name_out, model], [model, *model_outputs], queue=False,
                          api_visibility="private")
        cancel_btn.click(cancel, None, train_status, cancels=[train_evt], queue=False, api_visibility="private")

    blocks.queue(max_size=settings.queue_max_size, default_concurrency_limit=2)
    threading.Thread(target=ctx.warm_up, name="tagger-warm-up", daemon=True).start()
    return blocks, ctx
