"""The user's corrections of a model's predictions: named datasets per owner, durable, private.

A correction is a text with the entities a person kept, fixed or added (``answer: accept``, a full
annotation: every entity of the text is there), or a text marked wrong beyond repair (``answer:
reject``, kept but never trained on). Skipped texts are not stored.

**Layout.** ``<models folder>/.corrections/<owner key>/<dataset>.jsonl``, one JSON object a line:
``{"id", "text", "spans": [{"start", "end", "label"}], "answer", "model", "source", "time"}``.
The owner key is a hash of the owner id (itself a hash of the browser's token, or ``hf:<login>``),
so no token and no login name is a path; a dataset name is checked
(:func:`~demo.service.correction_spans.check_dataset_name`)
before it becomes a file name. The run store skips the folder (its name starts with a dot).
Corrections are personal also when runs are shared: only their owner lists, reads, exports or
trains on them.

**Atomicity.** Every change writes the whole new file under a temporary name in the same folder,
flushes and fsyncs it, then ``os.replace``-s it over the old one (and fsyncs the folder): a reader,
a crash or a kill at any point sees the old file or the new one, never a mix; a failed write
leaves the old file and removes its temporary. Saves of one dataset are serialised by a lock.
A text is stored once per dataset (its ``id`` is a hash of the text): saving it again replaces
the earlier record, which :meth:`CorrectionStore.save` returns so that an undo can put it back.

**Exports** (:meth:`CorrectionStore.export`): span JSONL in Prodigy's shape (``text``, ``tokens``,
``spans`` with token indices, ``answer``) and CoNLL (``word<TAB>tag``, IOB2). Both read back with
:func:`tagger.data.read_file` to the same words and tags: the CoNLL file *is* the JSONL file read
by the project's reader and written by :func:`tagger.convert.conll_text`.

What a correction holds is checked before anything is written, by the pure functions of
:mod:`demo.service.correction_spans` (names, labels, answers, texts, spans snapped to words, the
Prodigy shape); this module stores it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from .atomic import write_atomic
from .correction_spans import (
    ANSWERS,
    CorrectionError,
    check_answer,
    check_dataset_name,
    check_spans,
    check_text,
    prodigy_record,
    text_id,
)

log = logging.getLogger(__name__)

FOLDER = ".corrections"
EXPORTS = (("jsonl", "span JSONL (Prodigy / doccano shape)"), ("conll", "CoNLL (word, IOB2 tag)"))
MAX_RECORDS = 10_000  # texts in one dataset
MAX_DATASETS = 50  # datasets per owner


# ---------------------------------------------------------------------------------------------- the store
@dataclass
class Summary:
    """What a dataset holds: texts, accepted and rejected ones, entity spans per label (accepted)."""

    name: str
    texts: int = 0
    accepted: int = 0
    rejected: int = 0
    labels: Counter[str] = field(default_factory=Counter)
    skipped_lines: int = 0  # lines that do not read (the file was edited by hand)

    def to_json(self) -> dict[str, Any]:
        return {"dataset": self.name, "texts": self.texts, "accepted": self.accepted, "rejected": self.rejected,
                "labels": dict(sorted(self.labels.items()))}

    def line(self) -> str:
        """
        >>> Summary("fixes", 3, 2, 1, Counter({"PER": 2, "LOC": 1})).line()
        'fixes: 3 texts (2 accepted, 1 rejected); entities: LOC 1, PER 2'
        """
        labels = ", ".join(f"{k} {v}" for k, v in sorted(self.labels.items())) or "none"
        texts = "1 text" if self.texts == 1 else f"{self.texts} texts"
        bad = f"; {self.skipped_lines} unreadable line(s) left out" if self.skipped_lines else ""
        return f"{self.name}: {texts} ({self.accepted} accepted, {self.rejected} rejected); entities: {labels}{bad}"


def summarize(name: str, records: Sequence[dict[str, Any]], skipped: int = 0) -> Summary:
    out = Summary(name, len(records), skipped_lines=skipped)
    for r in records:
        if r.get("answer") == "reject":
            out.rejected += 1
        else:
            out.accepted += 1
            out.labels.update(s["label"] for s in r.get("spans", []))
    return out


def _valid(obj: Any) -> bool:
    return (isinstance(obj, dict) and isinstance(obj.get("text"), str) and isinstance(obj.get("spans"), list)
            and obj.get("answer") in ANSWERS and isinstance(obj.get("id"), str))


class CorrectionStore:
    """The corrections datasets under one models folder (:meth:`at` gives the one instance per
    folder, so every tab shares its locks). ``owner``: an owner id (:mod:`demo.service.owners`)."""

    _stores: ClassVar[dict[Path, CorrectionStore]] = {}
    _stores_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, models_dir: Path) -> None:
        self.root = Path(models_dir) / FOLDER
        self._locks: dict[Path, threading.Lock] = {}
        self._lock = threading.Lock()

    @classmethod
    def at(cls, models_dir: Path) -> CorrectionStore:
        key = Path(models_dir).resolve()
        with cls._stores_lock:
            if key not in cls._stores:
                cls._stores[key] = cls(key)
            return cls._stores[key]

    # -- where ------------------------------------------------------------------------------------
    def folder(self, owner: str | None) -> Path:
        if not owner:
            raise CorrectionError("corrections belong to an owner: pass your owner_token (any random string of 20 to 128 "
                                  "letters, digits, '-' or '_'; keep it to find your datasets again)")
        return self.root / hashlib.sha256(owner.encode("utf-8")).hexdigest()[:32]

    def path(self, owner: str | None, name: Any) -> Path:
        return self.folder(owner) / f"{check_dataset_name(name)}.jsonl"

    def _dataset_lock(self, path: Path) -> threading.Lock:
        with self._lock:
            return self._locks.setdefault(path, threading.Lock())

    # -- reading ----------------------------------------------------------------------------------
    def names(self, owner: str | None) -> list[str]:
        """The owner's datasets, sorted by name (none for an anonymous caller)."""
        if not owner:
            return []
        folder = self.folder(owner)
        if not folder.is_dir():
            return []
        return sorted(p.name[: -len(".jsonl")] for p in folder.glob("*.jsonl") if not p.name.startswith(".") and p.is_file())

    def newest(self, owner: str | None) -> str | None:
        """The owner's most recently changed dataset (what a page opened again shows first)."""
        names = self.names(owner)
        if not names:
            return None
        folder = self.folder(owner)
        return max(names, key=lambda n: (folder / f"{n}.jsonl").stat().st_mtime_ns)

    def _read(self, path: Path) -> tuple[list[dict[str, Any]], int]:
        if not path.is_file():
            return [], 0
        records, bad = [], 0
        with path.open(encoding="utf-8") as f:
            for line in f:
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except ValueError:
                    obj = None
                if _valid(obj):
                    records.append(obj)
                else:
                    bad += 1
        if bad:
            log.warning("%s: %d line(s) that are no correction were skipped", path, bad)
        return records, bad

    def records(self, owner: str | None, name: Any, must_exist: bool = True) -> list[dict[str, Any]]:
        path = self.path(owner, name)
        if must_exist and not path.is_file():
            raise CorrectionError(f"No corrections dataset {str(name).strip()[:80]!r} among yours.")
        return self._read(path)[0]

    def summary(self, owner: str | None, name: Any) -> Summary:
        path = self.path(owner, name)
        records, bad = self._read(path)
        return summarize(check_dataset_name(name), records, bad)

    # -- changing ---------------------------------------------------------------------------------
    def _write(self, path: Path, records: Sequence[dict[str, Any]]) -> None:
        data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode("utf-8")
        write_atomic(path, data)

    def save(self, owner: str | None, name: Any, text: Any, entities: Any, answer: Any = "accept",
             model: str = "", source: str = "") -> tuple[Summary, dict[str, Any], dict[str, Any] | None]:
        """Check and store one correction (all checks before anything is written). Returns the
        dataset's summary, the record as stored, and the record it replaced (the same text saved
        before) or None."""
        text, answer = check_text(text), check_answer(answer)
        spans = check_spans(text, entities)
        path = self.path(owner, name)
        record = {"id": text_id(text), "text": text, "spans": spans, "answer": answer, "model": str(model or ""),
                  "source": str(source or "")[:200], "time": round(time.time(), 3)}
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._dataset_lock(path):
            if not path.exists() and len(self.names(owner)) >= MAX_DATASETS:
                raise CorrectionError(f"you have {MAX_DATASETS} corrections datasets, the most one owner keeps; add to one of them")
            records, _ = self._read(path)
            previous = next((r for r in records if r["id"] == record["id"]), None)
            if previous is not None:
                records = [record if r["id"] == record["id"] else r for r in records]
            elif len(records) >= MAX_RECORDS:
                raise CorrectionError(f"dataset {path.stem!r} holds {MAX_RECORDS:,} texts, the most a dataset keeps; start another")
            else:
                records.append(record)
            self._write(path, records)
        return summarize(path.stem, records), record, previous

    def restore(self, owner: str | None, name: Any, record_id: str, previous: dict[str, Any] | None) -> Summary:
        """Undo a save: the record ``record_id`` goes, or is replaced by ``previous`` (what the save replaced)."""
        path = self.path(owner, name)
        with self._dataset_lock(path):
            records, _ = self._read(path)
            if previous is not None and any(r["id"] == record_id for r in records):
                records = [previous if r["id"] == record_id else r for r in records]
            elif previous is not None:
                records.append(previous)
            else:
                records = [r for r in records if r["id"] != record_id]
            self._write(path, records)
        return summarize(path.stem, records)

    # -- exports ----------------------------------------------------------------------------------
    def export(self, owner: str | None, name: Any, fmt: Any, dest_dir: Path) -> Path:
        """The dataset as ``<dest_dir>/<name>.jsonl`` (every record, with its answer) or
        ``<name>.conll`` (accepted texts only: CoNLL has no answer), written atomically."""
        fmt = str(fmt or "jsonl").strip().lower()
        if fmt not in dict(EXPORTS):
            raise CorrectionError(f"format {fmt[:20]!r}: expected one of {', '.join(dict(EXPORTS))}")
        records = self.records(owner, name)
        if not records:
            raise CorrectionError(f"dataset {check_dataset_name(name)!r} is empty: accept or reject some texts first")
        stem = check_dataset_name(name).replace(" ", "_")
        jsonl = "".join(json.dumps(prodigy_record(r), ensure_ascii=False) + "\n" for r in records).encode("utf-8")
        target = Path(dest_dir) / f"{stem}.{fmt}"
        if fmt == "jsonl":
            write_atomic(target, jsonl)
            return target
        if not any(r["answer"] == "accept" for r in records):
            raise CorrectionError(f"dataset {stem!r} has no accepted text (only rejected ones), and CoNLL holds accepted texts only")
        from tagger.convert import conll_text
        from tagger.data import read_file

        with tempfile.TemporaryDirectory(prefix="corrections-") as tmp:
            source = Path(tmp) / f"{stem}.jsonl"
            source.write_bytes(jsonl)
            sentences = read_file(source).sentences
        write_atomic(target, conll_text(sentences).encode("utf-8"))
        return target

    def training_file(self, owner: str | None, name: Any, dest_dir: Path) -> tuple[Path, Summary]:
        """The JSONL export to train on, with the dataset's summary; a CorrectionError for a dataset
        with nothing to train on (empty, or only rejected texts)."""
        summary = self.summary(owner, name)
        if not summary.texts:
            raise CorrectionError(f"dataset {summary.name!r} is empty: correct and accept some texts before training on it")
        if not summary.accepted:
            raise CorrectionError(f"dataset {summary.name!r} has only rejected texts ({summary.rejected}); rejected texts are "
                                  "not trained on: accept some corrected texts first")
        return self.export(owner, name, "jsonl", dest_dir), summary
