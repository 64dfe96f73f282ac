"""Token-level records, as the ``datasets`` library exports them: ``tokens`` (or ``words``) plus
``ner_tags``, ``pos_tags``, ``tags`` ... given as names or as integer ids. JSON lines and JSON arrays
come through :mod:`tagger.readers.jsonfiles`; Parquet and Arrow files are read here in batches.

Integer ids are named by the label list the user gives, else by the ClassLabel names stored with
the data (a Parquet/Arrow file's own ``huggingface`` metadata, a ``dataset_info.json`` beside it).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..corpus import Sentence
from ..errors import DataError
from .base import Conversion, LabelMapper, ReadOptions, check_count, label_names_from_features, names_beside
from .spans import EXPECTED

TOKEN_KEYS = ("tokens", "words")
TAG_KEYS = ("tags", "ner_tags", "labels", "pos_tags", "upos", "xpos", "chunk_tags")
DOC_KEYS = ("doc", "document", "doc_id", "document_id")


def pick_tag_key(keys: list[str], opts: ReadOptions) -> str | None:
    """The tag column of a record: the one the user named, else the first usual one present.

    >>> pick_tag_key(["id", "tokens", "pos_tags", "ner_tags"], ReadOptions()), pick_tag_key(["tokens", "pos_tags"], ReadOptions("POS_TAGS"))
    ('ner_tags', 'pos_tags')
    """
    name = opts.column_name
    if name is not None:
        return next((k for k in keys if k.lower() == name), None)
    return next((k for k in TAG_KEYS if k in keys), None)


class TokenReader:
    def __init__(self, path: Path, opts: ReadOptions, conv: Conversion, unit: str = "line",
                 names: dict[str, list[str]] | None = None, warnings: list[str] | None = None) -> None:
        self.path, self.opts, self.conv, self.unit = path, opts, conv, unit
        self.names = {**names_beside(path), **(names or {})}
        self.key: str | None = None
        self.mappers: dict[str, LabelMapper] = {}
        self.doc = 0
        self.last_doc: Any = None
        self.sentences = 0
        self.choices: list[str] = []
        opts.ignore_number(warnings if warnings is not None else [], "the first of " + ", ".join(TAG_KEYS[:4]) + " present")

    def record(self, obj: dict, n: int) -> list:
        words = next((obj[k] for k in TOKEN_KEYS if k in obj), None)
        key = pick_tag_key(list(obj), self.opts)  # per record: files mix "tags" and "ner_tags"
        if key is None:
            if self.opts.column_name is not None and words is not None:
                lists = ", ".join(k for k, v in obj.items() if isinstance(v, list) and k not in TOKEN_KEYS) or "none"
                raise DataError(self.path, n, f'no "{self.opts.column_name}" key; keys holding lists: {lists}', unit=self.unit)
            raise DataError(self.path, n, f"{EXPECTED}; this record has keys: {', '.join(sorted(obj)[:8]) or 'none'}", unit=self.unit)
        if key not in self.mappers:
            self.mappers[key] = LabelMapper(self.path, key, self.opts.labels, self.names)
        self.key = self.key or key
        tags = obj.get(key)
        if not isinstance(words, list) or not isinstance(tags, list):
            raise DataError(self.path, n, f'expected keys "tokens" and "{key}", each a list', unit=self.unit)
        if len(words) != len(tags):
            raise DataError(self.path, n, f'"tokens" has {len(words)} items but "{key}" has {len(tags)}; expected equal lengths',
                            unit=self.unit)
        names = self.mappers[key](tags, n, self.unit)
        if not all(isinstance(w, str) and w.strip() for w in words):
            raise DataError(self.path, n, "every token must be a non-empty string", unit=self.unit)
        self.conv.count("records")
        if not self.choices:  # the keys that could be labels: lists as long as the tokens
            self.choices = [k for k, v in obj.items() if k not in TOKEN_KEYS and isinstance(v, list) and len(v) == len(words)]
        doc = next((obj[k] for k in DOC_KEYS if k in obj), None)
        if doc is not None and doc != self.last_doc:
            self.doc += self.last_doc is not None
            self.last_doc = doc
        if not words:
            self.conv.count("records with no tokens (skipped)")
            return []
        self.sentences += 1
        check_count(self.path, self.sentences, n, self.unit)
        return [Sentence([w.strip() for w in words], names, n, self.doc)]

    def meta(self, fmt: str) -> dict:
        return {"format": fmt, "separator": "-", "columns": 2, "label_column": 1, "label_name": self.key or "",
                "label_choices": self.choices}


def _batches(path: Path, fmt: str) -> tuple[Any, Iterator[Any]]:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise DataError(path, None, f"reading {fmt.title()} needs pyarrow (pip install pyarrow)") from None
    try:
        if fmt == "parquet":
            pf = pq.ParquetFile(path)
            return pf.schema_arrow, pf.iter_batches(batch_size=2048)
        source = pa.memory_map(str(path))
        try:
            reader = pa.ipc.open_stream(source)  # datasets' save_to_disk writes the stream format
            return reader.schema, iter(reader)
        except pa.ArrowInvalid:
            source.seek(0)
            file_reader = pa.ipc.open_file(source)
            return file_reader.schema, (file_reader.get_batch(i) for i in range(file_reader.num_record_batches))
    except (OSError, pa.ArrowException) as err:
        raise DataError(path, None, f"cannot read it as {fmt.title()} ({str(err).splitlines()[0][:120]})") from None


def read_columnar(path: Path, fmt: str, opts: ReadOptions, conv: Conversion, warnings: list[str]) -> tuple[list, dict]:
    """Parquet or Arrow rows, a batch at a time."""
    schema, batches = _batches(path, fmt)
    names: dict[str, list[str]] = {}
    meta = (schema.metadata or {}).get(b"huggingface")
    if meta:
        try:
            names = label_names_from_features(json.loads(meta).get("info", {}).get("features"))
        except (ValueError, AttributeError):
            warnings.append("the file's datasets metadata is not valid JSON; ignored")
    reader = TokenReader(path, opts, conv, unit="row", names=names, warnings=warnings)
    sentences: list = []
    n = 0
    try:
        for batch in batches:
            for row in batch.to_pylist():
                n += 1
                sentences += reader.record(row, n)
    except OSError as err:
        raise DataError(path, n + 1, f"cannot read this row ({str(err)[:120]})", unit="row") from None
    if not sentences:
        raise DataError(path, None, "contains no sentences")
    return sentences, reader.meta(fmt)
