"""Helpers for the app tests: launch the Gradio app in-process on a free 127.0.0.1 port."""

from __future__ import annotations

import shutil
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
DEFAULT_MODEL = REPO / "models" / "default"
TRAIN_FILE = FIXTURES / "app_train.conll"
DEV_FILE = FIXTURES / "app_dev.conll"
# settings that make the tiny random base learn the fixture in seconds
TINY_TRAIN = {"base_label": "tiny", "head": "linear", "epochs": 8, "lr": 0.005, "batch_size": 8, "max_length": 64, "label_column": -1}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class RunningApp:
    url: str
    blocks: Any
    ctx: Any  # demo.app.AppContext
    models_dir: Path  # the --models-dir folder (holds a copy of the tiny tagger as "tiny")

    def close(self) -> None:
        self.ctx.close()
        self.blocks.close()


def start_app(tmp: Path, tiny_base: Path, tiny_tagger: Path, **overrides: Any) -> RunningApp:
    """The app with the tiny tagger listed as "tiny", the tiny random base offered as "tiny",
    models/default as "default" when it exists, and app-trained models under ``tmp``."""
    from demo.app import build_app
    from demo.settings import AppSettings

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
    blocks, ctx = build_app(AppSettings(**values))
    port = free_port()
    blocks.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, **ctx.launch_kwargs())
    return RunningApp(f"http://127.0.0.1:{port}/", blocks, ctx, models_dir)


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
