"""One error hierarchy: every error the library raises for a user to read derives from
:class:`TaggerError`, so the CLI and the UI catch one type and show ``str(err)``.

The subclasses keep their old builtin base (``ValueError``/``RuntimeError``) as a second
parent, so code that caught those before still works.
"""

from __future__ import annotations

from pathlib import Path


class TaggerError(Exception):
    """Base of every user-facing error: ``str(err)`` is a complete message for the user."""


class DataError(TaggerError, ValueError):
    """Invalid labeled data. ``str(err)`` reads ``file, line N: what was expected``.

    >>> str(DataError("data/train.conll", 3, "2 columns, expected 4"))
    'train.conll, line 3: 2 columns, expected 4'
    """

    def __init__(self, path: str | Path, line: int | None, message: str, *, unit: str = "line") -> None:
        where = f"{Path(path).name}, {unit} {line}" if line else Path(path).name
        super().__init__(f"{where}: {message}")
        self.path, self.line, self.detail = str(path), line, message


class ConfigError(TaggerError, ValueError):
    """A config value is out of range; the message names the field."""


class SchemeError(TaggerError, ValueError):
    """Tags that fit no known scheme; ``index`` is the (sentence, word) of the first bad tag."""

    def __init__(self, message: str, index: tuple[int, int] | None = None) -> None:
        super().__init__(message)
        self.index = index


class ModelError(TaggerError, ValueError):
    """A model folder or id that cannot be used; the message says why."""


class InputError(TaggerError, ValueError):
    """Text the predictor refuses, with a message for the user."""


class TrainingError(TaggerError, RuntimeError):
    """Training cannot go on (bad labels, NaN loss, out of memory); the message says why."""


class TrainingCancelled(TaggerError, RuntimeError):
    """``should_stop`` returned True; nothing was written."""
