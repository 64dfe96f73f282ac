"""The user's corrections of a model's predictions: named datasets per owner, durable, private.

A correction is a text with the entities a person kept, fixed or added (``answer: accept``, a full
annotation: every entity of the text is there), or a text marked wrong beyond repair (``answer:
reject``, kept but never trained on). Skipped texts are not stored.

**Layout.** ``<models folder>/.corrections/<owner key>/<dataset>.jsonl``, one JSON object a line:
``{"id", "text", "spans": [{"start", "end", "label"}], "answer", "model", "source", "time"}``.
The owner key is a hash of the owner id (itself a hash of the browser's token, or ``hf:<login>``),
so no token and no login name is a path; a dataset name is checked (:func:`check_dataset_name`)
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

Spans snap to words as the readers snap them (:func:`snap`), and never end in trailing punctuation.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
import threading
import time
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Any, ClassVar

from tagger.errors import TaggerError
from tagger.readers.spanalign import covered_words, span_problem, trim

log = logging.getLogger(__name__)

FOLDER = ".corrections"
EXPORTS = (("jsonl", "span JSONL (Prodigy / doccano shape)"), ("conll", "CoNLL (word, IOB2 tag)"))
ANSWERS = ("accept", "reject")
MAX_NAME = 64
MAX_LABEL = 40
MAX_TEXT = 20_000  # characters of one correction (a file's longer documents are cut into parts first)
MAX_RECORDS = 10_000  # texts in one dataset
MAX_DATASETS = 50  # datasets per owner
LANGUAGE = "en"  # the word splitter's language (the readers' default)
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._-]*")
_PREFIX = re.compile(r"[BIESLU][-_]", re.IGNORECASE)
_INITIALS = re.compile(r"(?:[^\W\d_]\.)+")  # U.S., J., e.g.: the period belongs to the word
TRAILING = ".,;:!?\"')]}»”’"  # punctuation a span never ends with (unless the word is an abbreviation)


class CorrectionError(TaggerError, ValueError):
    """A correction, a dataset name or a label the store refuses; the message says why."""


# ---------------------------------------------------------------------------------------------- names
def check_dataset_name(name: Any) -> str:
    """A dataset name, trimmed: 1 to 64 letters, digits, spaces, ``.``, ``_``, ``-``, starting with
    a letter or digit (it becomes a file name: no path characters, no leading dot).

    >>> check_dataset_name("  ner fixes_v2 ")
    'ner fixes_v2'
    >>> check_dataset_name("../runs")
    Traceback (most recent call last):
    ...
    demo.service.corrections.CorrectionError: dataset name '../runs': use 1 to 64 letters, digits, spaces, '.', '_' or '-', starting with a letter or digit
    """
    text = name.strip() if isinstance(name, str) else ""
    if not text:
        raise CorrectionError("dataset name: empty; name the dataset (e.g. 'my-corrections')")
    if len(text) > MAX_NAME or not _NAME.fullmatch(text):
        raise CorrectionError(f"dataset name {text[:80]!r}: use 1 to {MAX_NAME} letters, digits, spaces, '.', '_' or '-', "
                              "starting with a letter or digit")
    return text


def check_label(label: Any) -> str:
    """An entity label as IOB2 tags can carry it: 1 to 40 printable characters, no whitespace,
    not ``O``, not starting with a dash or with a scheme prefix (``B-``, ``I-``, ``E-``, ``S-``,
    ``L-``, ``U-``, or with ``_``), no control characters. Case is kept.

    >>> check_label("DRUG"), check_label(" Product-Line "), check_label("GPE:city")
    ('DRUG', 'Product-Line', 'GPE:city')
    >>> for bad in ["", "NEW LABEL", "B-PER", "i_loc", "-X", "O", "A\\x00"]:
    ...     try:
    ...         check_label(bad)
    ...     except CorrectionError as err:
    ...         print(err)
    label '': empty; give the entity type a name (e.g. PRODUCT)
    label 'NEW LABEL': no spaces or other whitespace (IOB tags and CoNLL columns are split on them); try 'NEW_LABEL'
    label 'B-PER': starts like an IOB tag (B-, I-, E-, S-, L-, U-); give the type alone (e.g. 'PER')
    label 'i_loc': starts like an IOB tag (B-, I-, E-, S-, L-, U-); give the type alone (e.g. 'loc')
    label '-X': cannot start with a dash
    label 'O': 'O' means outside any entity; choose another name
    label 'A\\x00': no control characters
    """
    text = label.strip() if isinstance(label, str) else ""
    shown = repr(text[:60])
    if not text:
        raise CorrectionError("label '': empty; give the entity type a name (e.g. PRODUCT)")
    if any(unicodedata.category(c) == "Cc" for c in text):
        raise CorrectionError(f"label {shown}: no control characters")
    if any(c.isspace() for c in text):
        raise CorrectionError(f"label {shown}: no spaces or other whitespace (IOB tags and CoNLL columns are split on them); "
                              f"try {'_'.join(text.split())[:60]!r}")
    if len(text) > MAX_LABEL:
        raise CorrectionError(f"label {shown}: at most {MAX_LABEL} characters")
    if text.startswith("-"):
        raise CorrectionError(f"label {shown}: cannot start with a dash")
    if text == "O":
        raise CorrectionError("label 'O': 'O' means outside any entity; choose another name")
    if _PREFIX.match(text):
        raise CorrectionError(f"label {shown}: starts like an IOB tag (B-, I-, E-, S-, L-, U-); give the type alone "
                              f"(e.g. {text[2:]!r})")
    if not text.isprintable():
        raise CorrectionError(f"label {shown}: only printable characters")
    return text


def check_answer(answer: Any) -> str:
    """``accept`` (default when empty) or ``reject``.

    >>> check_answer(""), check_answer("Reject")
    ('accept', 'reject')
    """
    text = (answer.strip().lower() if isinstance(answer, str) else "") or "accept"
    if text not in ANSWERS:
        raise CorrectionError(f"answer {str(answer)[:40]!r}: expected 'accept' or 'reject' (a skipped text is not saved)")
    return text


def check_text(text: Any) -> str:
    if not isinstance(text, str) or not text.strip():
        raise CorrectionError("text: empty; a correction needs the text it annotates")
    if len(text) > MAX_TEXT:
        raise CorrectionError(f"text: {len(text):,} characters; a correction holds at most {MAX_TEXT:,} (cut the text into parts)")
    return text


def text_id(text: str) -> str:
    """The id of a text in a dataset (the same text is stored once).

    >>> text_id("Angela Merkel visited Paris.")
    '674b7623743cdc9e'
    """
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


# ---------------------------------------------------------------------------------------------- spans
@lru_cache(maxsize=64)
def _words(text: str) -> tuple[tuple[int, int], ...]:
    from tagger.words import split_words

    return tuple((s, e) for _, s, e in split_words(text, LANGUAGE))


@lru_cache(maxsize=1)
def _exceptions() -> frozenset[str]:
    """Words spaCy's tokenizer keeps whole with their period (``Inc.``, ``Dr.``, ``Jan.``)."""
    from tagger.words import _spacy_pipeline

    return frozenset(_spacy_pipeline(LANGUAGE).tokenizer.rules or {})


def is_punctuation(word: str) -> bool:
    """
    >>> is_punctuation("."), is_punctuation("--"), is_punctuation("M&M"), is_punctuation("$")
    (True, True, False, False)
    """
    return bool(word) and all(unicodedata.category(c).startswith("P") for c in word)


def trailing_cut(word: str) -> int:
    """How many characters at the end of ``word`` are punctuation a span leaves out: sentence
    punctuation and closing quotes glued to the word, unless the word is an abbreviation whose
    period belongs to it (spaCy's exceptions such as ``Inc.``, or initials such as ``U.S.``).

    >>> trailing_cut("M&M."), trailing_cut("IBM),"), trailing_cut("U.S."), trailing_cut("Inc."), trailing_cut("Paris")
    (1, 2, 0, 0, 0)
    """
    if _INITIALS.fullmatch(word) or word in _exceptions():
        return 0
    core = word.rstrip(TRAILING)
    return len(word) - len(core) if any(c.isalnum() for c in core) else 0


def snap(text: str, start: Any, end: Any) -> tuple[int, int]:
    """Character offsets of a selection -> those of the entity it means, as the readers snap
    (:mod:`tagger.readers.spanalign`): edge whitespace trimmed, a cut word widened to the whole
    word (words of :func:`tagger.words.split_words`, the splitter prediction uses), punctuation-only
    words at either edge left out, and trailing punctuation of the last word left out
    (:func:`trailing_cut`). A :class:`CorrectionError` says why a selection is no entity.

    >>> t = "I love M&M. And Apple Inc. too"
    >>> [t[a:b] for a, b in (snap(t, 8, 10), snap(t, 7, 11), snap(t, 16, 26), snap(t, 15, 20))]
    ['M&M', 'M&M', 'Apple Inc.', 'Apple']
    >>> snap(t, 10, 12)
    Traceback (most recent call last):
    ...
    demo.service.corrections.CorrectionError: span [10, 12) '. ': holds no word, only punctuation or spaces
    """
    problem = span_problem(len(text), start, end)
    if problem:
        raise CorrectionError(f"span [{start}, {end}): {problem}")
    if start >= end:
        raise CorrectionError(f"span [{start}, {end}): empty (start must be before end)")
    words = _words(text)
    s, e = trim(text, start, end)
    covered = covered_words(words, s, e) if s < e else None
    a, b = covered or (0, 0)

    def counts(i: int) -> bool:  # a word the selection touches beyond its punctuation
        ws, we = words[i]
        word = text[ws:we]
        return not is_punctuation(word) and s < we - trailing_cut(word)

    while a < b and not counts(a):
        a += 1
    while b > a and not counts(b - 1):
        b -= 1
    if a >= b:
        raise CorrectionError(f"span [{start}, {end}) {text[start:end][:40]!r}: holds no word, only punctuation or spaces")
    first, last = words[a], words[b - 1]
    return first[0], last[1] - trailing_cut(text[last[0]:last[1]])


def _entry(entity: Any, n: int) -> tuple[Any, Any, Any]:
    if isinstance(entity, dict):
        label = entity.get("label", entity.get("entity"))
        return entity.get("start"), entity.get("end"), label
    if isinstance(entity, list | tuple) and len(entity) == 3:
        return entity[0], entity[1], entity[2]
    raise CorrectionError(f"entity {n}: expected {{\"start\", \"end\", \"label\"}} or [start, end, label], got {str(entity)[:60]}")


def check_spans(text: str, entities: Any) -> list[dict[str, Any]]:
    """Entities (``{"start", "end", "label"}`` or ``[start, end, label]``, a JSON string of them
    accepted) -> checked, snapped spans sorted by start. Errors name the entity: offsets outside
    the text or not start < end, a bad label (:func:`check_label`), two entities that overlap.

    >>> check_spans("Angela Merkel visited Paris.", [[22, 28, "LOC"], {"start": 0, "end": 13, "label": "PER"}])
    [{'start': 0, 'end': 13, 'label': 'PER'}, {'start': 22, 'end': 27, 'label': 'LOC'}]
    >>> check_spans("Angela Merkel visited Paris.", [[0, 6, "PER"], [7, 13, "PER"], [0, 13, "PER"]])
    Traceback (most recent call last):
    ...
    demo.service.corrections.CorrectionError: entity 3 'Angela Merkel' (PER) overlaps entity 1 'Angela' (PER); entities cannot overlap
    """
    if isinstance(entities, str):
        try:
            entities = json.loads(entities) if entities.strip() else []
        except ValueError as err:
            raise CorrectionError(f"entities: not JSON ({err.msg}); expected a list of {{\"start\", \"end\", \"label\"}}") from None
    if entities is None:
        entities = []
    if not isinstance(entities, list | tuple):
        raise CorrectionError("entities: expected a list of {\"start\", \"end\", \"label\"}")
    spans: list[tuple[int, int, str, int]] = []
    for n, entity in enumerate(entities, 1):
        start, end, label = _entry(entity, n)
        try:
            s, e = snap(text, start, end)
            spans.append((s, e, check_label(label), n))
        except CorrectionError as err:
            raise CorrectionError(f"entity {n}: {err}") from None
    spans.sort()
    for (s1, e1, l1, n1), (s2, e2, l2, n2) in pairwise(spans):
        if s2 < e1:
            (a, b) = sorted([(n1, f"{text[s1:e1]!r} ({l1})"), (n2, f"{text[s2:e2]!r} ({l2})")])
            raise CorrectionError(f"entity {b[0]} {b[1]} overlaps entity {a[0]} {a[1]}; entities cannot overlap")
    return [{"start": s, "end": e, "label": label} for s, e, label, _ in spans]


def suggestions(prediction: Any) -> list[dict[str, Any]]:
    """A :class:`tagger.predict.Prediction` -> the entities offered for correction, snapped as a
    person's selection would be (``{"start", "end", "label", "score", "text"}``)."""
    text = prediction.text
    out: list[dict[str, Any]] = []
    for ent in prediction.entities:
        try:
            s, e = snap(text, ent.start, ent.end)
        except CorrectionError:
            continue  # a punctuation-only entity: nothing to offer
        out.append({"start": s, "end": e, "label": ent.label, "score": round(float(ent.score), 4), "text": text[s:e]})
    return out


# ---------------------------------------------------------------------------------------------- exports
def tokens(text: str, spans: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The words of ``text`` (spaCy's tokens, whitespace tokens included: they end sentences at
    blank lines) cut where a span starts or ends inside one ("M&M." -> "M&M", "."), as Prodigy
    tokens ``{"text", "start", "end", "id", "ws"}``.

    >>> [t["text"] for t in tokens("I love M&M.", [{"start": 7, "end": 10, "label": "BRAND"}])]
    ['I', 'love', 'M&M', '.']
    """
    from tagger.words import _spacy_pipeline

    cuts = sorted({s["start"] for s in spans} | {s["end"] for s in spans})
    pieces: list[tuple[int, int]] = []
    for tok in _spacy_pipeline(LANGUAGE).tokenizer(text):
        a, b = tok.idx, tok.idx + len(tok.text)
        for c in cuts:
            if a < c < b:
                pieces.append((a, c))
                a = c
        pieces.append((a, b))
    return [{"text": text[a:b], "start": a, "end": b, "id": i, "ws": b < len(text) and text[b] == " "}
            for i, (a, b) in enumerate(pieces)]


def prodigy_record(record: dict[str, Any]) -> dict[str, Any]:
    """A stored correction as a Prodigy-style task: text, tokens, spans with token indices, answer."""
    text, spans = record["text"], record["spans"]
    toks = tokens(text, spans)
    first = {t["start"]: t["id"] for t in toks}
    last = {t["end"]: t["id"] for t in toks}
    out_spans = [{"start": s["start"], "end": s["end"], "label": s["label"], "token_start": first[s["start"]],
                  "token_end": last[s["end"]]} for s in spans]
    return {"text": text, "tokens": toks, "spans": out_spans, "answer": record["answer"],
            "meta": {k: record[k] for k in ("model", "source") if record.get(k)}}


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
