"""What every tab shares: :class:`AppContext` (settings, runs on disk, model registry, training
job queue, model zips) and the plumbing between handlers and Gradio.

- :func:`user_errors` is the ONE place where errors become what the user sees: a
  :class:`~tagger.errors.TaggerError` (library errors, and the app's own ``UnknownModel`` /
  ``JobRefused``) becomes ``gr.Error`` with its message; any other exception is logged with its
  traceback and the user sees :data:`INTERNAL_ERROR`. Every handler is decorated with it.
- :func:`bind` gives a module-level handler ``handler(ctx, ...)`` its context for wiring. (Not
  ``functools.partial``: Gradio reads type hints to inject ``gr.Request``/``gr.Progress``, and a
  partial hides them.)
"""

from __future__ import annotations

import functools
import inspect
import logging
import os
import secrets
import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gradio as gr

from tagger.data import MAX_FILE_BYTES
from tagger.errors import TaggerError

from . import render
from .registry import DEFAULT_NAME, ModelRegistry
from .runs import Run, RunStore
from .settings import AppSettings
from .training import TrainingQueue

log = logging.getLogger(__name__)

INTERNAL_ERROR = "Internal error; see the server log."
KEEP_ZIPS = 8
SECRET_FILE = ".browser-secret"
CSS = """
#tag-info p, #train-status p { margin: 0; }
footer { display: none !important; }
"""


def user_error(err: BaseException | str) -> gr.Error:
    """A ``gr.Error`` showing ``str(err)`` (Gradio renders it as HTML, so it is escaped)."""
    return gr.Error(render.plain(err), print_exception=False)


def _convert(err: Exception, fn: Callable[..., Any]) -> gr.Error:
    if isinstance(err, gr.Error):
        return err
    if isinstance(err, TaggerError):
        return user_error(err)
    log.error("unexpected error in %s", fn.__qualname__, exc_info=err)
    return gr.Error(INTERNAL_ERROR, print_exception=False)


def user_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate a handler (function or generator): TaggerError -> gr.Error(message); anything
    else -> logged with its traceback, and gr.Error(INTERNAL_ERROR) for the user."""
    if inspect.isgeneratorfunction(fn):

        @functools.wraps(fn)
        def gen(*args: Any, **kwargs: Any) -> Any:
            try:
                yield from fn(*args, **kwargs)
            except Exception as err:  # noqa: BLE001 -- the UI boundary: nothing escapes unconverted
                raise _convert(err, fn) from None

        return gen

    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except Exception as err:  # noqa: BLE001 -- the UI boundary: nothing escapes unconverted
            raise _convert(err, fn) from None

    return call


def bind(ctx: AppContext, handler: Callable[..., Any]) -> Callable[..., Any]:
    """``handler(ctx, *inputs)`` as ``f(*inputs)`` for an event listener. Keeps the parameter
    names (they are the API's parameter names), the type hints and generator-ness."""
    sig = inspect.signature(handler)
    if inspect.isgeneratorfunction(handler):

        @functools.wraps(handler)
        def bound(*args: Any, **kwargs: Any) -> Any:
            yield from handler(ctx, *args, **kwargs)
    else:

        @functools.wraps(handler)
        def bound(*args: Any, **kwargs: Any) -> Any:
            return handler(ctx, *args, **kwargs)

    bound.__signature__ = sig.replace(parameters=list(sig.parameters.values())[1:])  # type: ignore[attr-defined]
    return bound


def named(component: Any) -> Any:
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


class AppContext:
    """Everything the handlers share: settings, the runs on disk, the model registry, the
    training job queue, model zips."""

    def __init__(self, settings: AppSettings) -> None:
        self.settings = settings
        self.runs = RunStore(settings.app_models_dir, settings.max_app_models, settings.private_runs, settings.max_runs)
        self.registry = ModelRegistry(settings.default_model, settings.models_dirs, self.runs)
        self.jobs = TrainingQueue(
            self.runs, parallel=settings.train_parallel, max_waiting=settings.train_queue,
            per_owner=1 if settings.private_runs else None, prewarm=False, grace=settings.cancel_grace_s,
            on_change=self.registry.forget_missing, threads=settings.worker_threads(),
        )
        self.browser_secret = browser_secret(self.runs.root)
        self.zip_dir = Path(tempfile.mkdtemp(prefix="bert-tagger-zips-"))
        self._zips: dict[tuple[str, int], Path] = {}
        self._zip_lock = threading.Lock()
        self._closed = False

    def warm_up(self) -> None:
        """Load the default model and run it once (spaCy, torch kernels), then let the job queue
        keep a spare worker (not before: both would import torch at once)."""
        try:
            if self.settings.warmup and DEFAULT_NAME in self.registry.names():
                self.registry.predictor(DEFAULT_NAME).predict("Warm-up sentence from Paris.")
        except Exception:  # start-up must go on; the first Tag click shows the real error
            log.exception("warm-up of the default model failed")
        self.jobs.prewarm_enabled = self.settings.prewarm_worker

    def start_warm_up(self) -> None:
        threading.Thread(target=self.warm_up, name="tagger-warm-up", daemon=True).start()

    def make_zip(self, run: Run) -> Path:
        """The run as ``<name>.zip`` (a Hugging Face folder), in a folder of its own (two owners'
        runs may share a name); the last few zips are kept."""
        folder = self.zip_dir / secrets.token_hex(8)
        folder.mkdir()
        target = self.runs.zip(run, folder)
        for old in sorted(self.zip_dir.iterdir(), key=lambda p: p.stat().st_mtime)[:-KEEP_ZIPS]:
            shutil.rmtree(old, ignore_errors=True)
        return target

    def zip_for(self, run: Run) -> Path:
        """:meth:`make_zip`, made once per run version (a page reload does not zip it again)."""
        key = (run.id, (run.path / "tagger.json").stat().st_mtime_ns)
        with self._zip_lock:
            path = self._zips.get(key)
            if path is None or not path.is_file():
                path = self._zips[key] = self.make_zip(run)
            return path

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.jobs.shutdown()
        self.runs.close()
        shutil.rmtree(self.zip_dir, ignore_errors=True)

    def launch_kwargs(self) -> dict[str, Any]:
        """Arguments for ``Blocks.launch``: theme, CSS, and the upload limit (the library's file limit)."""
        theme = gr.themes.Soft(
            primary_hue="indigo",
            font=["ui-sans-serif", "system-ui", "Segoe UI", "Roboto", "sans-serif"],  # no web-font download
            font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "monospace"],
        )
        return {"theme": theme, "css": CSS, "max_file_size": MAX_FILE_BYTES}


def browser_secret(folder: Path) -> str:
    """The key ``gr.BrowserState`` encrypts the owner token with: ``TAGGER_BROWSER_SECRET``, else
    one made once and kept beside the runs. It must outlive restarts: with a new key each
    start, browsers could no longer read their token, and would lose their private runs."""
    value = os.environ.get("TAGGER_BROWSER_SECRET", "").strip()
    if value:
        return value
    path = Path(folder) / SECRET_FILE
    try:
        value = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        value = ""
    if len(value) < 16:
        value = secrets.token_hex(16)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(value)
    return value
