"""JSON lines and JSON documents -> records -> the reader of their kind (token records, span
records, Label Studio tasks). JSON lines are read one line at a time (memory: one record, whatever
the file's size); a JSON document (a list of records, or a ``datasets`` column dict) is loaded whole.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import DataError
from .base import Conversion, ReadOptions, check_count, decode, stream_lines
from .columnar import TOKEN_KEYS, TokenReader
from .labelstudio import LabelStudioReader
from .spans import SpanReader


def record_kind(obj: dict) -> str:
    """Which reader a JSON record belongs to: ``labelstudio`` (a task with annotations),
    ``jsonl`` (tokens + tags) or ``spans`` (text + character offsets; also the fallback, whose
    error names the keys it expected)."""
    if "annotations" in obj or "completions" in obj or isinstance(obj.get("data"), dict):
        return "labelstudio"
    if "tokens" in obj and not isinstance(obj.get("text"), str) or "words" in obj:
        return "jsonl"
    return "spans"


def _is_document(path: Path, fmt: str) -> bool:
    """A JSON array/object spread over the file, rather than one JSON value per line."""
    if fmt == "json":
        return True
    with path.open("rb") as f:
        head = f.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"["):
        return path.suffix.lower() != ".jsonl"
    first = head.split(b"\n", 1)[0].strip()
    if head.startswith(b"{") and path.suffix.lower() == ".json":
        try:
            json.loads(first)
        except ValueError:
            return True
    return False


def _document_records(path: Path, warnings: list[str]) -> tuple[list[Any], str]:
    try:
        loaded = json.loads(decode(path.read_bytes(), warnings))
    except json.JSONDecodeError as err:
        raise DataError(path, err.lineno, f"invalid JSON ({err.msg}, column {err.colno}); expected a JSON list of records") from None
    if isinstance(loaded, dict):
        tokens = next((k for k in TOKEN_KEYS if isinstance(loaded.get(k), list)), None)
        if tokens and loaded[tokens] and isinstance(loaded[tokens][0], list):  # {"tokens": [[...]], "ner_tags": [[...]]}
            columns = {k: v for k, v in loaded.items() if isinstance(v, list) and len(v) == len(loaded[tokens])}
            return [dict(zip(columns, row)) for row in zip(*columns.values())], "record"
        for key in ("data", "records", "rows", "examples"):
            if isinstance(loaded.get(key), list):
                return loaded[key], "record"
        return [loaded], "record"
    if not isinstance(loaded, list):
        raise DataError(path, None, f"the JSON is a {type(loaded).__name__}; expected a list of records")
    return loaded, "record"


def _line_records(path: Path, warnings: list[str]) -> Iterator[tuple[int, Any]]:
    for n, ln in stream_lines(path, warnings):
        if not ln.strip():
            continue
        try:
            yield n, json.loads(ln)
        except json.JSONDecodeError as err:
            raise DataError(path, n, f"invalid JSON ({err.msg}); expected one object per line") from None


def read(path: Path, fmt: str, opts: ReadOptions, conv: Conversion, warnings: list[str]) -> tuple[list, dict]:
    document = _is_document(path, fmt)
    if document:
        records, unit = _document_records(path, warnings)
        items: Iterator[tuple[int, Any]] = enumerate(records, 1)
    else:
        unit = "line"
        items = _line_records(path, warnings)
    reader: Any = None
    kind = fmt if fmt in ("jsonl", "spans", "labelstudio") else None
    sentences: list = []
    for n, obj in items:
        if not isinstance(obj, dict):
            raise DataError(path, n, 'expected an object like {"tokens": [...], "tags": [...]} or {"text": ..., "label": [...]}',
                            unit=unit)
        if reader is None:
            kind = kind if kind and not document else kind or record_kind(obj)
            if kind == "labelstudio":
                reader = LabelStudioReader(path, opts, conv)
                unit = "task"
            elif kind == "jsonl":
                reader = TokenReader(path, opts, conv, unit, warnings=warnings)
            else:
                reader = SpanReader(path, opts, conv, unit)
        sentences += reader.record(obj, n)
        check_count(path, len(sentences), n, unit)
    if not sentences:
        skipped = "; ".join(f"{k} {v}" for k, v in conv.counts.items() if k != "records")
        raise DataError(path, None, "contains no sentences" + (f" ({skipped})" if skipped else ""))
    meta = reader.meta("jsonl" if not document else "json") if isinstance(reader, TokenReader) else reader.meta()
    return sentences, meta
