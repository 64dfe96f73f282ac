"""App settings: where models live, which bases may be fine-tuned, limits. From env + CLI args.

Environment variables (all optional):

``TAGGER_DEFAULT_MODEL``   the shipped tagger (default: the installed package data, else ``models/default``)
``TAGGER_MODELS_DIR``      where app-trained models (runs) are written (default ``/data/bert-tagger/models`` where
                         ``/data`` is writable, as with Spaces persistent storage, else ``~/.cache/bert-tagger/models``)
``TAGGER_MAX_MODELS``      runs kept per owner (all runs when shared); the oldest is removed first (default 5)
``TAGGER_MAX_RUNS``        runs kept in all, across owners (default 200)
``TAGGER_PRIVATE_RUNS``    ``1``: each browser / API client sees only its own runs; ``0``: all runs are shared
                         (default: private on a Space, i.e. when ``SPACE_ID`` is set, else shared)
``TAGGER_TRAIN_PARALLEL``  training jobs running at once (default 1); others wait in a first-in, first-out queue
``TAGGER_TRAIN_QUEUE``     training jobs that may wait (default 4); more are refused
``TAGGER_BASES``           fine-tuning bases, ``label=base;label=base`` (default the packaged MiniLM)
``TAGGER_QUEUE_MAX``       requests waiting in the queue before new ones are refused (default 32)
``TAGGER_TRAIN_THREADS``   torch threads of the training worker (default 0 = all cores)
``TAGGER_TAG_THREADS``     torch threads for tagging in the app process (default 1; read by app.py)
``TAGGER_TAG_BATCH``       concurrent Tag requests tagged together in one model call: ``auto`` (default) batches up to 16
                         for a model on a GPU and tags each request alone (two at a time) on the CPU, where a batch
                         costs as much per text and only adds waiting (docs/BENCHMARKS.md, "Serving"); ``N``: batches
                         of up to N on any device; ``0``: never
``TAGGER_TAG_BATCH_MS``    how long a Tag request waits for others to join its batch, in milliseconds (default 5)
``TAGGER_TAG_BACKEND``     ``auto`` (default): a model serves Tag requests with ONNX Runtime once a background check
                         found it gives torch's labels on every word of a built-in sample and is faster; ``torch``,
                         ``onnx`` (still checked: torch is kept when ONNX Runtime fails or disagrees)
``TAGGER_TAG_FILE_MAX_MB`` the largest file the Tag tab's file panel and ``/tag_file`` take, in MB (default 10; a zip:
                         its unpacked members)
``TAGGER_TAG_FILE_MAX_DOCS`` the most documents (records, lines, CoNLL documents) of one such file (default 100,000)
``TAGGER_WARMUP``          ``0`` skips loading the default model at start-up
``TAGGER_PREWARM_WORKER``  ``0`` skips keeping an idle training worker with torch imported
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from tagger.config import DEFAULT_BASE
from tagger.meta import default_model_path

DEFAULT_BASES = {"MiniLM-L6 (packaged, uncased)": DEFAULT_BASE}
DEFAULT_MODELS_DIR = Path.home() / ".cache" / "bert-tagger" / "models"
SPACES_DATA = Path("/data")  # Hugging Face Spaces persistent storage, when the Space has it


def models_dir_default(env: dict[str, str], data: Path = SPACES_DATA) -> tuple[Path, bool]:
    """Where runs go, and whether they outlive a restart: ``TAGGER_MODELS_DIR``; else
    ``<data>/bert-tagger/models`` where ``data`` is a writable folder; else the user's cache,
    which a Space loses at each restart (a local machine keeps it).

    >>> models_dir_default({"TAGGER_MODELS_DIR": "/srv/m"}, Path("/nonexistent"))
    (PosixPath('/srv/m'), True)
    >>> models_dir_default({"SPACE_ID": "me/app"}, Path("/nonexistent"))[1]
    False
    """
    on_space = bool(env.get("SPACE_ID", "").strip())
    if env.get("TAGGER_MODELS_DIR", "").strip():
        folder = Path(env["TAGGER_MODELS_DIR"]).expanduser()
        return folder, not on_space or _under(folder, data)
    if data.is_dir() and _writable(data / "bert-tagger" / "models"):
        return data / "bert-tagger" / "models", True
    return DEFAULT_MODELS_DIR, not on_space


def _writable(folder: Path) -> bool:
    """Whether runs can be written under ``folder``: tried, not asked (``os.access`` says yes to root
    even where the file system refuses, e.g. a read-only mount)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


def _under(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False


def private_runs_default(env: dict[str, str]) -> bool:
    """``TAGGER_PRIVATE_RUNS`` if set, else private on a Space.

    >>> private_runs_default({"SPACE_ID": "me/app"}), private_runs_default({}), private_runs_default({"SPACE_ID": "x", "TAGGER_PRIVATE_RUNS": "0"})
    (True, False, False)
    """
    value = env.get("TAGGER_PRIVATE_RUNS", "").strip().lower()
    if value:
        return value not in ("0", "false", "no", "off")
    return bool(env.get("SPACE_ID", "").strip())


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


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    return float(value) if value else default


def _env_batch(name: str) -> int | None:
    """``auto`` (or unset) -> None, else a whole number >= 0."""
    value = os.environ.get(name, "").strip().lower()
    return None if value in ("", "auto") else max(0, int(value))


def _env_choice(name: str, choices: tuple[str, ...], default: str) -> str:
    value = os.environ.get(name, "").strip().lower() or default
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


def _env_flag(name: str, default: bool) -> bool:
    value = os.environ.get(name, "").strip().lower()
    return default if not value else value not in ("0", "false", "no", "off")


@dataclass
class AppSettings:
    default_model: Path | None = field(default_factory=default_model_path)  # None: no default tagger
    models_dirs: list[Path] = field(default_factory=list)  # extra folders whose model sub-folders are listed
    app_models_dir: Path = DEFAULT_MODELS_DIR
    max_app_models: int = 5  # per owner with private runs, else in all
    max_runs: int = 200  # in all, across owners
    private_runs: bool = False  # each owner sees only their runs
    persistent_runs: bool = True  # False: runs are lost at restart (a Space without persistent storage)
    train_parallel: int = 1  # training jobs running at once
    train_queue: int = 4  # training jobs waiting; more are refused
    bases: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_BASES))
    queue_max_size: int = 32  # 20 simultaneous Tag requests fit (2 run, 18 wait): bench/bench_load.py
    train_threads: int = 0
    warmup: bool = True
    prewarm_worker: bool = True
    low_confidence: float = 0.6  # words below this score are flagged in the UI
    cancel_grace_s: float = 3.0  # after Cancel: cooperative stop window, then terminate, then kill
    tag_batch: int | None = None  # most texts of concurrent Tag requests in one model call; None: auto (GPU only); <= 1: never
    tag_batch_ms: float = 5.0  # how long a request waits for others to join its batch
    tag_backend: str = "torch"  # from_env: TAGGER_TAG_BACKEND, default "auto" (tests and library users: torch unless asked)
    tag_file_max_mb: float = 10.0  # files to tag: size limit (TAGGER_TAG_FILE_MAX_MB)
    tag_file_max_docs: int = 100_000  # files to tag: documents limit (TAGGER_TAG_FILE_MAX_DOCS)

    def worker_threads(self) -> int:
        """Torch threads of each training worker: ``train_threads``, else the cores shared among
        the jobs that run at once.

        >>> AppSettings(train_threads=0, train_parallel=2).worker_threads() == max(1, (os.cpu_count() or 1) // 2)
        True
        """
        return self.train_threads or max(1, (os.cpu_count() or 1) // self.train_parallel)

    @classmethod
    def from_env(cls, **overrides: object) -> AppSettings:
        models_dir, persistent = models_dir_default(dict(os.environ))
        values: dict[str, object] = {
            "app_models_dir": models_dir,
            "persistent_runs": persistent,
            "private_runs": private_runs_default(dict(os.environ)),
            "max_app_models": max(1, _env_int("TAGGER_MAX_MODELS", 5)),
            "max_runs": max(1, _env_int("TAGGER_MAX_RUNS", 200)),
            "train_parallel": max(1, _env_int("TAGGER_TRAIN_PARALLEL", 1)),
            "train_queue": max(0, _env_int("TAGGER_TRAIN_QUEUE", 4)),
            "queue_max_size": max(1, _env_int("TAGGER_QUEUE_MAX", 32)),
            "train_threads": max(0, _env_int("TAGGER_TRAIN_THREADS", 0)),
            "warmup": _env_flag("TAGGER_WARMUP", True),
            "prewarm_worker": _env_flag("TAGGER_PREWARM_WORKER", True),
            "tag_batch": _env_batch("TAGGER_TAG_BATCH"),
            "tag_batch_ms": max(0.0, _env_float("TAGGER_TAG_BATCH_MS", 5.0)),
            "tag_backend": _env_choice("TAGGER_TAG_BACKEND", ("auto", "torch", "onnx"), "auto"),
            "tag_file_max_mb": max(0.001, _env_float("TAGGER_TAG_FILE_MAX_MB", 10.0)),
            "tag_file_max_docs": max(1, _env_int("TAGGER_TAG_FILE_MAX_DOCS", 100_000)),
        }
        if os.environ.get("TAGGER_BASES", "").strip():
            values["bases"] = parse_bases(os.environ["TAGGER_BASES"])
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]
