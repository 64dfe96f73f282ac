"""One person's pass over a batch of texts in the Correct tab, with no Gradio: the texts (pasted or
from a file of any format :mod:`tagger.inputs` reads), the order they come in, the entities of the
text on screen (the model's suggestions, then the person's edits), and an undo stack that spans
edits and decisions.

Accept and reject save the text at once (:class:`~demo.service.corrections.CorrectionStore`), so
nothing decided is lost with the page; skip saves nothing. Undo takes back the last step: an edit
of the text on screen, or the last decision (its saved record is removed, or the record it had
replaced put back) with that text on screen again as it was.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .correction_spans import CorrectionError, check_label, snap, suggestions, text_id
from .corrections import CorrectionStore

MAX_TEXTS = 1_000  # texts loaded at once (a bigger file: the first ones)
MAX_SHOWN = 3_000  # characters of one text on screen; a longer document is cut into parts
SPLITS = (("paragraphs", "one text per paragraph (blank-line separated)"), ("lines", "one text per line"))
ORDERS = (("file", "in file order"), ("uncertain", "least confident first (lowest word confidence)"))
_BLANK_LINE = re.compile(r"\n[ \t\r\f\v]*\n")

Predict = Callable[[Sequence[str]], list[Any]]  # texts -> tagger.predict.Prediction each


@dataclass
class Item:
    text: str
    source: str  # where it came from ("pasted text, paragraph 2", "notes.jsonl, line 5")
    spans: list[dict[str, Any]] | None = None  # the entities on screen; None until the model was asked
    uncertainty: float | None = None  # 1 - the lowest word confidence of the model's prediction
    status: str = ""  # "" (to do), "accept", "reject", "skip"


def split_text(text: str, mode: str) -> list[str]:
    """Pasted text -> texts: one per non-blank line, or one per blank-line-separated paragraph.

    >>> split_text("One line.\\nSame paragraph.\\n\\n  \\nNext one.\\n", "paragraphs")
    ['One line.\\nSame paragraph.', 'Next one.']
    >>> split_text("One line.\\nSame paragraph.\\n\\nNext one.", "lines")
    ['One line.', 'Same paragraph.', 'Next one.']
    """
    text = text.replace("\r\n", "\n")
    parts = text.split("\n") if mode == "lines" else _BLANK_LINE.split(text)
    return [p.strip() for p in parts if p.strip()]


def _pieces(text: str) -> list[str]:
    from tagger.inputs import split_long

    return [p.strip() for _, p in split_long(text, MAX_SHOWN) if p.strip()] if len(text) > MAX_SHOWN else [text]


def read_pasted(text: Any, mode: str) -> list[Item]:
    unit = "line" if mode == "lines" else "paragraph"
    return [Item(piece, f"pasted text, {unit} {n}") for n, t in enumerate(split_text(str(text or ""), mode), 1)
            for piece in _pieces(t)]


def read_file_texts(path: str | Path, mode: str, limit: int = MAX_TEXTS + 1) -> list[Item]:
    """The texts of an uploaded file, labels ignored: a record of JSON lines / CSV is one text (a
    long one in parts), a sentence of CoNLL / CoNLL-U / DocBin one text (its words joined by
    spaces), plain text one text per paragraph or per line (``mode``). At most ``limit`` texts."""
    from tagger.inputs import Documents, ReadSettings

    docs = Documents(path, settings=ReadSettings(lines=mode == "lines"))
    out: list[Item] = []
    try:
        for doc in docs:
            if doc.sentences is not None:
                texts = [" ".join(words) for words in doc.sentences if words]
            elif docs.format == "text" and mode != "lines":
                texts = split_text(doc.text or "", "paragraphs")
            else:
                texts = [(doc.text or "").strip()]
            for n, text in enumerate(t for t in texts if t.strip()):
                where = doc.location + (f", sentence {n + 1}" if doc.sentences is not None else "")
                out += [Item(piece, where) for piece in _pieces(text)]
            if len(out) >= limit:
                break
    finally:
        docs.close()
    return out[:limit]


def uncertainty(prediction: Any) -> float:
    """1 - the lowest confidence of any word of the prediction (0 for a text without words): the
    text the model is least sure of somewhere comes first."""
    return round(1.0 - min((w.score for w in prediction.words), default=1.0), 6)


@dataclass
class CorrectSession:
    """The state of one page's pass (kept in a ``gr.State``: plain data only)."""

    model: str
    dataset: str
    items: list[Item] = field(default_factory=list)
    order: list[int] = field(default_factory=list)  # item indices in the order they are shown
    pos: int = 0  # place in ``order`` of the text on screen (== len(order): all done)
    history: list[dict[str, Any]] = field(default_factory=list)  # the undo stack
    labels: list[str] = field(default_factory=list)  # offered in the label bar, in order
    note: str = ""  # a message for the view (what the last step did, or why it did nothing)
    version: int = 0  # bumped on every change (the view re-renders on a new value)

    # -- reading ------------------------------------------------------------------------------------
    @property
    def current(self) -> Item | None:
        return self.items[self.order[self.pos]] if self.pos < len(self.order) else None

    def counts(self) -> dict[str, int]:
        out = {"total": len(self.items), "accept": 0, "reject": 0, "skip": 0}
        for item in self.items:
            if item.status:
                out[item.status] += 1
        out["done"] = out["accept"] + out["reject"] + out["skip"]
        out["left"] = out["total"] - out["done"]
        return out

    def suggest(self, predict: Predict) -> None:
        """Ask the model for the text on screen when it has not been asked yet."""
        item = self.current
        if item is not None and item.spans is None:
            prediction = predict([item.text])[0]
            item.spans = suggestions(prediction)
            item.uncertainty = uncertainty(prediction)
            self.add_labels(s["label"] for s in item.spans)

    def add_labels(self, labels: Any) -> None:
        for label in labels:
            if label not in self.labels:
                self.labels.append(label)

    def _changed(self, note: str = "") -> None:
        self.note = note
        self.version += 1

    # -- edits of the text on screen --------------------------------------------------------------
    def _editable(self) -> Item:
        item = self.current
        if item is None or item.spans is None:
            raise CorrectionError("no text on screen: load texts first")
        return item

    def _push_edit(self, item: Item) -> None:
        self.history.append({"kind": "edit", "index": self.order[self.pos], "spans": [dict(s) for s in item.spans or []]})

    def add(self, start: Any, end: Any, label: Any) -> dict[str, Any]:
        """A new entity over a selection (snapped to words); entities it overlaps are replaced."""
        item = self._editable()
        label = check_label(label)
        s, e = snap(item.text, start, end)
        self._push_edit(item)
        kept = [x for x in item.spans or [] if x["end"] <= s or x["start"] >= e]
        replaced = len(item.spans or []) - len(kept)
        span = {"start": s, "end": e, "label": label}
        item.spans = sorted([*kept, span], key=lambda x: x["start"])
        self.add_labels([label])
        more = f" (replacing {replaced} overlapping)" if replaced else ""
        self._changed(f"added {item.text[s:e]!r} as {label}{more}")
        return span

    def _find(self, item: Item, start: Any, end: Any) -> dict[str, Any]:
        for span in item.spans or []:
            if span["start"] == start and span["end"] == end:
                return span
        raise CorrectionError(f"no entity at [{start}, {end}) in the text on screen")

    def relabel(self, start: Any, end: Any, label: Any) -> None:
        item = self._editable()
        label = check_label(label)
        span = self._find(item, start, end)
        self._push_edit(item)
        old = span["label"]
        item.spans = [{"start": x["start"], "end": x["end"], "label": label} if x is span else x for x in item.spans or []]
        self.add_labels([label])
        self._changed(f"{item.text[span['start']:span['end']]!r}: {old} -> {label}")

    def remove(self, start: Any, end: Any) -> None:
        item = self._editable()
        span = self._find(item, start, end)
        self._push_edit(item)
        item.spans = [x for x in item.spans or [] if x is not span]
        self._changed(f"removed {item.text[span['start']:span['end']]!r} ({span['label']})")

    # -- decisions --------------------------------------------------------------------------------
    def decide(self, answer: str, store: CorrectionStore, owner: str | None) -> str:
        """Accept or reject (saved at once) or skip (not saved) the text on screen; the next one follows."""
        item = self._editable()
        step: dict[str, Any] = {"kind": "decision", "index": self.order[self.pos], "pos": self.pos, "answer": answer,
                                "spans": [dict(s) for s in item.spans or []], "dataset": self.dataset}
        if answer in ("accept", "reject"):
            summary, record, previous = store.save(owner, self.dataset, item.text, item.spans, answer, self.model, item.source)
            step.update(record_id=record["id"], previous=previous)
            note = f"{'accepted' if answer == 'accept' else 'rejected'}: saved to {summary.line()}"
        elif answer == "skip":
            note = "skipped (not saved)"
        else:
            raise CorrectionError(f"unknown decision {answer!r}: accept, reject or skip")
        item.status = answer
        self.history.append(step)
        self.pos += 1
        self._changed(note)
        return note

    def undo(self, store: CorrectionStore, owner: str | None) -> str:
        """Take back the last edit or decision."""
        if not self.history:
            self._changed("nothing to undo")
            return self.note
        step = self.history.pop()
        item = self.items[step["index"]]
        if step["kind"] == "edit":
            self.pos = self.order.index(step["index"])
            item.spans = step["spans"]
            self._changed("undid the last edit")
            return self.note
        if step.get("record_id"):
            store.restore(owner, step["dataset"], step["record_id"], step.get("previous"))
        item.status, item.spans, self.pos = "", step["spans"], step["pos"]
        what = {"accept": "accept (removed from the dataset)", "reject": "reject (removed from the dataset)"}.get(step["answer"],
                                                                                                             "skip")
        self._changed(f"undid the {what}")
        return self.note


def start_session(model: str, dataset: str, items: list[Item], labels: Sequence[str], predict: Predict | None,
                  uncertain_first: bool, done_ids: set[str]) -> CorrectSession:
    """A session over ``items`` minus the texts already in the dataset (``done_ids``), in file order
    or least confident first (which asks the model about every text now; else one at a time)."""
    fresh, seen, dropped = [], set(), 0
    for item in items:
        key = text_id(item.text)
        if key in done_ids or key in seen:
            dropped += 1
            continue
        seen.add(key)
        fresh.append(item)
    extra = fresh[MAX_TEXTS:]
    fresh = fresh[:MAX_TEXTS]
    session = CorrectSession(model, dataset, fresh, list(range(len(fresh))), labels=list(labels))
    if uncertain_first and predict is not None and fresh:
        for i in range(0, len(fresh), 32):
            batch = fresh[i : i + 32]
            for item, prediction in zip(batch, predict([x.text for x in batch])):
                item.spans, item.uncertainty = suggestions(prediction), uncertainty(prediction)
                session.add_labels(s["label"] for s in item.spans)
        session.order.sort(key=lambda i: -(fresh[i].uncertainty or 0.0))
    notes = []
    if dropped:
        notes.append(f"{dropped} text(s) already in {dataset!r} (or repeated) left out")
    if extra:
        notes.append(f"only the first {MAX_TEXTS:,} texts loaded")
    session.note = "; ".join(notes)
    return session
