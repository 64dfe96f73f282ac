"""App settings: where models live, which bases may be fine-tuned, limits. From env + CLI args.

Environment variables (all optional):

``TAGGER_DEFAULT_MODEL``   the shipped tagger (default ``models/default``)
``TAGGER_MODELS_DIR``      where app-trained models are written (default ``~/.cache/bert-tagger/models``)
``TAGGER_MAX_MODELS``      app-trained models kept on disk; the oldest is removed first (default 5)
``TAGGER_BASES``           fine-tuning bases, ``label=base;label=base`` (default the packaged MiniLM)
``TAGGER_QUEUE_MAX``       requests waiting in the queue before new ones are refused (default 32)
``TAGGER_TRAIN_THREADS``   torch threads of the training worker (default 0 = all cores)
``TAGGER_TAG_THREADS``     torch threads for tagging in the app process (default 1; read by app.py)
``TAGGER_WARMUP``          ``0`` skips loading the default model at start-up
``TAGGER_PREWARM_WORKER``  ``0`` skips keeping an idle training worker with torch imported
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from tagger.cli import DEFAULT_MODEL
from tagger.config import DEFAULT_BASE

DEFAULT_BASES = {"MiniLM-L6 (packaged, uncased)": DEFAULT_BASE}
DEFAULT_MODELS_DIR = Path.home() / ".cache" / "bert-tagger" / "models"


def parse_bases(spec: str) -> dict[str, str]:
    """``"label=base;label2=base2"`` -> ``{label: base}``; a bare ``base`` is its own label."""
    out: dict[str, str] = {}
    for item in spec.split(";"):
        item = item.strip()
        if not item:
            continue
        label, sep, base = item.partition("=")
        out[label.strip() if sep else item] = base.strip() if sep else item
    return out


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def _env_flag(name: str, default: bool) -> bool:
    value = os.environ.get(name, "").strip().lower()
    return default if not value else value not in ("0", "false", "no", "off")


@dataclass
class AppSettings:
    default_model: Path | None = DEFAULT_MODEL
    models_dirs: list[Path] = field(default_factory=list)  # extra folders whose model sub-folders are listed
    app_models_dir: Path = DEFAULT_MODELS_DIR
    max_app_models: int = 5
    bases: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_BASES))
    queue_max_size: int = 32  # 20 simultaneous Tag requests fit (2 run, 18 wait): bench/bench_load.py
    train_threads: int = 0
    warmup: bool = True
    prewarm_worker: bool = True
    low_confidence: float = 0.6  # words below this score are flagged in the UI
    cancel_grace_s: float = 3.0  # after Cancel: cooperative stop window, then terminate, then kill

    @classmethod
    def from_env(cls, **overrides: object) -> AppSettings:
        values: dict[str, object] = {
            "app_models_dir": Path(os.environ.get("TAGGER_MODELS_DIR") or DEFAULT_MODELS_DIR).expanduser(),
            "max_app_models": max(1, _env_int("TAGGER_MAX_MODELS", 5)),
            "queue_max_size": max(1, _env_int("TAGGER_QUEUE_MAX", 32)),
            "train_threads": max(0, _env_int("TAGGER_TRAIN_THREADS", 0)),
            "warmup": _env_flag("TAGGER_WARMUP", True),
            "prewarm_worker": _env_flag("TAGGER_PREWARM_WORKER", True),
        }
        if os.environ.get("TAGGER_BASES", "").strip():
            values["bases"] = parse_bases(os.environ["TAGGER_BASES"])
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]
