"""Files the app writes for its users (run records, job records, corrections) replaced in one step: a
reader, or a restart after a crash, finds the old content or the new, never half of it."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


def _write_all(f: Any, data: bytes) -> None:
    """Write ``data`` to the open file ``f`` (one place, so a test can cut a save short)."""
    f.write(data)


def write_atomic(path: Path, data: bytes) -> None:
    """``data`` as the new content of ``path``: a temporary file in the same folder, fsynced, then
    renamed over ``path`` in one step (and the folder fsynced, so the rename survives a crash)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            _write_all(f, data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    try:
        dir_fd = os.open(path.parent, os.O_RDONLY)
    except OSError:  # a platform without directory handles
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def write_json_atomic(path: Path, value: dict[str, Any]) -> None:
    """``value`` as indented JSON in ``path``, written as :func:`write_atomic` writes."""
    write_atomic(path, json.dumps(value, indent=2).encode("utf-8"))
