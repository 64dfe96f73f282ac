"""Test helpers, in one module: paths, skip markers for optional data, the two-sentence corpus,
and launching the Gradio app in-process on a free 127.0.0.1 port. Fixtures stay in conftest.py."""

from __future__ import annotations

import os
import shutil
import socket
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))  # the page checks and moves are shared with bench/screenshots.py
from page_checks import SIDEWAYS, TABLES, open_tab, set_number  # noqa: F401 -- re-exported for the browser tests

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED_DATA = Path(os.environ.get("TAGGER_SHARED_DATA", REPO.parent / "shared" / "data"))
DEFAULT_MODEL = REPO / "models" / "default"
TRAIN_FILE = FIXTURES / "app_train.conll"
DEV_FILE = FIXTURES / "app_dev.conll"
# settings that make the tiny random base learn the fixture in seconds
TINY_TRAIN = {"base_label": "tiny", "head": "linear", "epochs": 8, "lr": 0.005, "batch_size": 8, "max_length": 64, "label_column": -1}

# models/default is tracked in git: a test that uses it is marked, never skipped (a checkout without it is broken).
needs_default = pytest.mark.needs_default


def shared_missing(files: tuple[str, ...], root: Path | None = None) -> str | None:
    """Why tests reading ``files`` (paths under the shared data folder) cannot run, or None when they can.

    >>> shared_missing(("conll2003/eng.testb",), Path("/nonexistent"))
    'needs the shared data sets in /nonexistent (absent; set TAGGER_SHARED_DATA to their folder)'
    >>> shared_missing(("conll2003/eng.testb", "re3d"), Path("/"))
    'needs /conll2003/eng.testb, /re3d (missing from the shared data sets)'
    """
    root = SHARED_DATA if root is None else root
    if not root.is_dir():
        return f"needs the shared data sets in {root} (absent; set TAGGER_SHARED_DATA to their folder)"
    missing = [str(root / f) for f in files if not (root / f).exists()]
    return f"needs {', '.join(missing)} (missing from the shared data sets)" if missing else None


def needs_shared(*files: str) -> Callable[[Any], Any]:
    """Decorator factory for tests that read ../shared/data: ``@needs_shared("conll2003/eng.testb", ...)``
    marks the test ``shared_data`` and skips it, naming what is missing, when the folder or any of the
    named files or folders is absent (a partial ../shared skips instead of erroring)."""
    if not files or not all(isinstance(f, str) for f in files):
        raise TypeError("needs_shared takes the files the test reads: @needs_shared('conll2003/eng.testb', ...)")
    reason = shared_missing(files)

    def mark(test: Any) -> Any:
        return pytest.mark.shared_data(pytest.mark.skipif(reason is not None, reason=reason or "")(test))

    return mark


def two_sentences() -> list:
    from tagger.data import Sentence

    return [
        Sentence(["Angela", "Merkel", "visited", "Paris", "today", "."], ["B-PER", "I-PER", "O", "B-LOC", "O", "O"]),
        Sentence(["John", "lives", "in", "Berlin", "now"], ["B-PER", "O", "O", "B-LOC", "O"]),
    ]


def two_sentences_conll() -> str:
    """:func:`two_sentences` as a CoNLL file's text (word tag, a blank line between sentences)."""
    return "\n\n".join("\n".join(f"{w} {t}" for w, t in zip(s.words, s.tags)) for s in two_sentences()) + "\n"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def app_settings(tmp: Path, tiny_base: Path, tiny_tagger: Path, **overrides: Any) -> Any:
    """AppSettings with the tiny tagger listed as "tiny" (a copy under ``tmp/models``), the tiny
    random base offered as "tiny", models/default as "default" when it exists, and app-trained
    models under ``tmp/app-models``."""
    from demo.service.settings import AppSettings

    models_dir = tmp / "models"
    models_dir.mkdir(parents=True, exist_ok=True)
    if not (models_dir / "tiny").exists():
        shutil.copytree(tiny_tagger, models_dir / "tiny")
    values: dict[str, Any] = {
        "default_model": DEFAULT_MODEL if (DEFAULT_MODEL / "config.json").is_file() else None,
        "models_dirs": [models_dir],
        "app_models_dir": tmp / "app-models",
        "max_app_models": 3,
        "bases": {"tiny": str(tiny_base)},
        "queue_max_size": 8,
        "warmup": False,
        "prewarm_worker": True,
        "cancel_grace_s": 2.0,
    }
    values.update(overrides)
    return AppSettings(**values)


@dataclass
class RunningApp:
    url: str
    blocks: Any
    ctx: Any  # demo.service.app_context.AppContext
    models_dir: Path  # the --models-dir folder (holds a copy of the tiny tagger as "tiny")

    def close(self) -> None:
        self.ctx.close()
        self.blocks.close()


def start_app(tmp: Path, tiny_base: Path, tiny_tagger: Path, **overrides: Any) -> RunningApp:
    """The app on :func:`app_settings`, launched in-process on a free port."""
    from demo.ui.app import build_app, launch_kwargs

    settings = app_settings(tmp, tiny_base, tiny_tagger, **overrides)
    blocks, ctx = build_app(settings)
    port = free_port()
    blocks.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, **launch_kwargs())
    return RunningApp(f"http://127.0.0.1:{port}/", blocks, ctx, settings.models_dirs[0])


def running_app(factory: pytest.TempPathFactory, name: str, tiny_base: Path, tiny_tagger: Path, **overrides: Any) -> Any:
    """A generator for a module-scoped ``app`` fixture: :func:`start_app` in a fresh folder, closed after."""
    running = start_app(factory.mktemp(name), tiny_base, tiny_tagger, **overrides)
    yield running
    running.close()


def app_client(app: RunningApp, factory: pytest.TempPathFactory) -> Any:
    """A gradio_client for ``app`` that downloads into a fresh folder."""
    from gradio_client import Client

    return Client(app.url, verbose=False, download_files=str(factory.mktemp("downloads")))


def train_tiny(base: Path, out: Path, head: str, seed: int = 13) -> Path:
    """A tiny tagger overfit on :func:`two_sentences` (PER/LOC), saved at ``out``: exactly, sentence
    by sentence (no casing augmentation, no document context)."""
    from tagger.config import TrainConfig
    from tagger.train import train

    cfg = TrainConfig(base=str(base), head=head, epochs=40, lr=5e-3, head_lr=5e-3, batch_size=2, warmup_ratio=0.0, max_length=64,
                      case_lower=0.0, case_upper=0.0, case_unknown=0.0, doc_context=False, seed=seed)
    train(cfg, two_sentences(), two_sentences(), out)
    return out


def wait_for(predicate: Callable[[], Any], timeout: float, interval: float = 0.2, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def app_model_dirs(app: RunningApp) -> set[str]:
    """Everything in the app-trained models folder (model folders and any temp leftovers)."""
    folder = app.ctx.settings.app_models_dir
    return {p.name for p in folder.iterdir()} if folder.is_dir() else set()


# ------------------------------------------------------------------ the real browser (Debian's chromium)
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
ARTIFACTS = REPO / "test-artifacts"
TIMEOUT_MS = 180_000  # generous: the CI machine may be busy
BROWSER_MARKS = [pytest.mark.browser, pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium")]


def launch_chromium() -> Any:
    """A generator for a module-scoped ``browser`` fixture: Playwright driving Debian's chromium."""
    from playwright.sync_api import sync_playwright  # requirements-dev.txt: missing = a failure, not a skip

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@contextmanager
def browser_page(browser: Any, url: str, height: int = 1000) -> Iterator[Any]:
    """A page of a fresh browser context at ``url`` (1280 wide), with the tests' timeout."""
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": height})
    try:
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(url)
        yield page
    finally:
        context.close()


def add_run(root: Path, tiny_tagger: Path, run_id: str, token: str, created: float = 1000.0) -> Path:
    """A run as a finished job leaves it in the models folder ``root``: the tiny tagger (with its dev
    set) and a run record owned by ``token``'s owner."""
    import json

    from demo.service.owners import token_owner

    folder = root / run_id
    shutil.copytree(tiny_tagger, folder)
    meta = json.loads((folder / "tagger.json").read_text())
    meta["run"] = {"id": run_id, "name": run_id, "owner": token_owner(token), "created": created, "train_file": "mine.conll"}
    (folder / "tagger.json").write_text(json.dumps(meta))
    return folder
