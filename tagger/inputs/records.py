"""Records with a text field: JSON lines (one object a line), a JSON list (Label Studio tasks read
their text from ``data``), CSV/TSV under a header row. The record is kept whole (``fields``) and
written back with the predictions.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import DataError
from .document import Document, decoded, read_lines


def _record_text(obj: dict[str, Any], key: str, name: str, n: int, unit: str) -> str:
    if key not in obj:
        keys = ", ".join(f'"{k}"' for k in list(obj)[:12]) or "none"
        raise DataError(name, n, f'no "{key}" field; the record has {keys} (choose the text field with --text-field)', unit=unit)
    text = obj[key]
    if not isinstance(text, str):
        raise DataError(name, n, f'"{key}" is {"null" if text is None else type(text).__name__}; expected a string', unit=unit)
    return text


def _record_id(obj: dict[str, Any], name: str, n: int) -> str:
    """The record's own ``id`` (a string or a whole number), else ``file:line``.

    >>> _record_id({"id": 7}, "a.jsonl", 3), _record_id({"id": True}, "a.jsonl", 3), _record_id({}, "a.jsonl", 4)
    ('7', 'a.jsonl:3', 'a.jsonl:4')
    """
    value = obj.get("id")
    return str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else f"{name}:{n}"


def jsonl_documents(path: Path, name: str, text_field: str, warnings: list[str], base: int = 0) -> Iterator[Document]:
    """One document per JSON object per line; the object is kept whole (``fields``)."""
    for n, line, pos in read_lines(path, name, warnings):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as err:
            raise DataError(name, n, f"invalid JSON ({err.msg}, column {err.colno}); expected one JSON object per line") from None
        if not isinstance(obj, dict):
            raise DataError(name, n, f'a JSON {type(obj).__name__}; expected an object like {{"{text_field}": "..."}}')
        text = _record_text(obj, text_field, name, n, "line")
        yield Document(_record_id(obj, name, n), text=text, fields=obj, source=name, where=n, text_key=text_field, bytes_read=base + pos)


def json_documents(path: Path, name: str, text_field: str, warnings: list[str], base: int = 0) -> Iterator[Document]:
    """A JSON list of records (loaded whole: JSON cannot be read piecewise); ``{"data": {...}}``
    (Label Studio tasks) reads the text from ``data``."""
    raw = path.read_bytes()
    try:
        loaded = json.loads(decoded(raw.removeprefix(b"\xef\xbb\xbf"), 1, name, warnings))
    except json.JSONDecodeError as err:
        raise DataError(name, err.lineno, f"invalid JSON ({err.msg}, column {err.colno}); expected a list of records") from None
    records = loaded if isinstance(loaded, list) else [loaded]
    size = len(raw)
    for n, obj in enumerate(records, 1):
        if not isinstance(obj, dict):
            raise DataError(name, n, f"a JSON {type(obj).__name__}; expected a record (object)", unit="record")
        holder = obj["data"] if text_field not in obj and isinstance(obj.get("data"), dict) else obj
        text = _record_text(holder, text_field, name, n, "record")
        yield Document(_record_id(obj, name, n), text=text, fields=holder, source=name, where=n, unit="record", text_key=text_field,
                       bytes_read=base + size * n // len(records))


def _find_column(header: list[str], column: str, name: str) -> int:
    exact = [i for i, h in enumerate(header) if h == column]
    loose = [i for i, h in enumerate(header) if h.strip().lower() == column.strip().lower()]
    if exact or loose:
        return (exact or loose)[0]
    seen = ", ".join(f'"{h}"' for h in header[:20]) or "none"
    raise DataError(name, 1, f'no "{column}" column; the header has {seen} (choose the text column with --text-column)')


def csv_documents(path: Path, name: str, text_column: str, delimiter: str, warnings: list[str], base: int = 0) -> Iterator[Document]:
    """One document per row under a header row; the row is kept as a record (``fields``). Quoted
    cells may span lines."""
    pos = 0

    def feed() -> Iterator[str]:
        nonlocal pos
        for _, line, p in read_lines(path, name, warnings):
            pos = p
            yield line

    csv.field_size_limit(max(csv.field_size_limit(), 1 << 30))  # a document's text may be long (the default limit: 128 KB)
    reader = csv.reader(feed(), delimiter=delimiter)
    try:
        header = next(reader, None)
        if header is None:
            raise DataError(name, None, "no header row; expected a header naming the text column")
        col = _find_column(header, text_column, name)
        for row in reader:
            if not any(c.strip() for c in row):
                continue
            n = reader.line_num
            if len(row) != len(header):
                raise DataError(name, n, f"{len(row)} fields, expected {len(header)} like the header ({delimiter!r}-separated)")
            record = dict(zip(header, row))
            yield Document(_record_id(record, name, n), text=row[col], fields=record, source=name, where=n,
                           text_key=header[col], bytes_read=base + pos)
    except csv.Error as err:
        raise DataError(name, reader.line_num, f"cannot read this CSV row ({err})") from None


def csv_delimiter(path: Path) -> str:
    """``,`` unless the header line has tabs or semicolons and no comma."""
    with path.open("rb") as f:
        head = f.readline(65536).decode("utf-8", errors="replace")
    if "," not in head:
        return "\t" if "\t" in head else ";" if ";" in head else ","
    return ","
