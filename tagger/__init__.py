"""BERT sequence tagging: read labeled data, fine-tune, evaluate, predict. No UI in here.

The names below are imported on first use (PEP 562), so ``import tagger.meta`` or
``tagger.errors`` (the UI does) does not import torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "DataError": "errors", "TaggerError": "errors", "TrainConfig": "config", "read_file": "data", "read_files": "data",
    "load_tagger": "model", "save_tagger": "model",
    "Entity": "predict", "Prediction": "predict", "Predictor": "predict", "Word": "predict",
}

__all__ = [
    "DataError", "Entity", "Prediction", "Predictor", "TaggerError", "TrainConfig", "Word", "load_tagger", "read_file", "read_files",
    "save_tagger",
]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'tagger' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
