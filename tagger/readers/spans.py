"""Span records (a text with character-offset spans) -> word-labelled sentences.

Layouts, detected per record:

- doccano: ``{"text": ..., "label": [[start, end, "TYPE"], ...]}``, the older ``{"data": ..., "label"}``,
  and ``{"text", "entities": [{"start_offset", "end_offset", "label"}]}``;
- Prodigy / spaCy: ``{"text", "tokens": [{"text", "start", "end"}], "spans": [{"start", "end", "label"}],
  "answer"}``: only ``accept`` (or no answer) is read; ``reject`` and ``ignore`` are counted;
- Label Studio JSON-MIN: ``{"text", "label": [{"start", "end", "labels": [...]}]}``.

A record without spans is all ``O``. Words come from the record's ``tokens`` when it has them, else
from the spaCy splitter prediction uses (:mod:`tagger.words`); sentences come from the same
sentencizer, and a sentence break inside a span is undone. Each record is one document.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..corpus import Sentence
from ..errors import DataError
from ..words import is_word, sentence_groups, split_sentences
from . import spanalign as sa
from .base import Conversion, ReadOptions, snippet

SPAN_KEYS = ("spans", "entities", "label", "labels")
TEXT_KEYS = ("text", "data")
KNOWN_KEYS = {*SPAN_KEYS, *TEXT_KEYS, "tokens", "answer", "meta", "id", "_input_hash", "_task_hash", "_view_id", "_session_id",
              "_timestamp", "_annotator_id", "relations", "comments", "annotator", "annotation_id", "created_at", "updated_at",
              "lead_time", "priority", "flagged"}
EXPECTED = ('expected keys "tokens" and "tags" (or "ner_tags"), or "text" with spans in "label", "entities" or "spans" '
            "(doccano, Prodigy), or a Label Studio task")


def _entry(entry: Any) -> tuple[Any, Any, Any, int]:
    """(start, end, label, number of labels) of one span entry in any of the layouts."""
    if isinstance(entry, (list, tuple)) and len(entry) == 3:
        return entry[0], entry[1], entry[2], 1
    if isinstance(entry, dict):
        start = next((entry[k] for k in ("start", "start_offset", "startOffset") if k in entry), None)
        end = next((entry[k] for k in ("end", "end_offset", "endOffset") if k in entry), None)
        label: Any = entry.get("label")
        n = 1
        if label is None and isinstance(entry.get("labels"), list) and entry["labels"]:
            label, n = entry["labels"][0], len(entry["labels"])
        return start, end, label, n
    return None, None, None, 0


def _looks_like_spans(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(_entry(e)[0] is not None for e in value[:3])


class SpanReader:
    """Turns span records into sentences, counting every outcome in ``conv``."""

    def __init__(self, path: Path, opts: ReadOptions, conv: Conversion, unit: str = "line") -> None:
        self.path, self.opts, self.conv, self.unit = path, opts, conv, unit
        self.doc = 0
        self.layouts: Counter[str] = Counter()

    def where(self, n: int) -> str:
        return f"{self.path.name}, {self.unit} {n}"

    def record(self, obj: dict, n: int, count: bool = True) -> list:
        """The sentences of one record (none for a rejected or empty one); ``count``: tally it in "records"."""
        text = obj.get("text")
        layout = "prodigy" if "spans" in obj or "tokens" in obj or "answer" in obj else "doccano"
        if not isinstance(text, str) and isinstance(obj.get("data"), str):
            text = obj["data"]
        if not isinstance(text, str):
            keys = ", ".join(sorted(obj)[:8]) or "none"
            raise DataError(self.path, n, f"{EXPECTED}; this record has keys: {keys}", unit=self.unit)
        for key, value in obj.items():
            if key not in KNOWN_KEYS and _looks_like_spans(value):
                raise DataError(self.path, n, (
                    f'unknown key "{key}" holds what look like spans; expected them under "label", "entities" or "spans"'
                ), unit=self.unit)
        self.layouts[layout] += 1
        if count:
            self.conv.count("records")
        answer = obj.get("answer", "accept")
        if answer != "accept":
            if answer not in ("reject", "ignore"):
                raise DataError(self.path, n, f'answer {answer!r}; expected "accept", "reject" or "ignore"', unit=self.unit)
            self.conv.count(f"records answered {answer} (not trained on)", example=f"{self.where(n)}: {snippet(text)}")
            return []
        key = next((k for k in ("spans", "entities", "label") if k in obj), None)
        raw = obj.get(key) if key else None
        if raw is None:
            raw = []
        if not isinstance(raw, list):
            raise DataError(self.path, n, f'"{key}" must be a list of spans like [start, end, "TYPE"]', unit=self.unit)
        spans: list[sa.CharSpan] = []
        for i, entry in enumerate(raw, 1):
            start, end, label, n_labels = _entry(entry)
            if start is None and isinstance(entry, str):
                raise DataError(self.path, n, (
                    f'"{key}" holds {entry!r}, a document label (text classification), not a span; expected [start, end, "TYPE"]'
                ), unit=self.unit)
            if start is None or end is None:
                raise DataError(self.path, n, f'span {i} ({str(entry)[:60]}): expected [start, end, "TYPE"] or {{"start", "end", "label"}}',
                                unit=self.unit)
            problem = sa.span_problem(len(text), start, end)
            if problem:
                raise DataError(self.path, n, (
                    f"span {i} [{start}, {end}) {label!r}: {problem}; expected 0 <= start <= end <= {len(text)}, the text's length"
                ), unit=self.unit)
            if not isinstance(label, str) or not label.strip():
                raise DataError(self.path, n, f"span {i} [{start}, {end}): the label must be a non-empty string, got {label!r}",
                                unit=self.unit)
            if n_labels > 1:
                self.conv.count("spans with several labels (the first used)", example=f"{self.where(n)}: {snippet(text[start:end])} {label}")
            spans.append(sa.CharSpan(start, end, label.strip()))
        if not text.strip():
            if any(s.start < s.end for s in spans):  # a span of whitespace only; nothing to label
                self.conv.count(sa.EMPTY, len(spans))
            self.conv.count("records with empty text (skipped)", example=f"{self.where(n)}: {snippet(text)}")
            return []
        if not spans:
            self.conv.count("records without spans (all O)")
        self.doc += 1
        return self.sentences(text, spans, obj.get("tokens"), n)

    def sentences(self, text: str, spans: Sequence[sa.CharSpan], tokens: Any, n: int) -> list:
        words, groups = self.words(text, tokens, n)
        tags, outcomes = sa.align(text, words, spans, self.opts.snap)
        self.tally(text, outcomes, n)
        # a sentence break inside a kept span is undone: the span's words stay in one sentence
        merged: list[list[int]] = []
        for g in groups:
            if merged and g and tags[g[0]].startswith("I-"):
                merged[-1].extend(g)
                self.conv.count("sentence breaks inside a span (sentences joined)")
            else:
                merged.append(list(g))
        return [Sentence([text[words[i][0]:words[i][1]] for i in g], [tags[i] for i in g], n, self.doc) for g in merged if g]

    def words(self, text: str, tokens: Any, n: int) -> tuple[list[tuple[int, int]], list[list[int]]]:
        """Word character ranges and their sentences (as word indices)."""
        if tokens is None:
            sents = split_sentences(text, self.opts.language)
            words = [(s, e) for sent in sents for _, s, e in sent]
            groups, i = [], 0
            for sent in sents:
                groups.append(list(range(i, i + len(sent))))
                i += len(sent)
            return words, groups
        if not isinstance(tokens, list):
            raise DataError(self.path, n, '"tokens" must be a list of {"text", "start", "end"} objects or strings', unit=self.unit)
        ranges: list[tuple[int, int]] = []
        pos = 0
        for i, t in enumerate(tokens, 1):
            if isinstance(t, dict) and isinstance(t.get("start"), int) and isinstance(t.get("end"), int):
                s, e = t["start"], t["end"]
                if not 0 <= s <= e <= len(text) or (isinstance(t.get("text"), str) and text[s:e] != t["text"]):
                    raise DataError(self.path, n, (
                        f"token {i} {t.get('text')!r} at [{s}, {e}) does not match the text there ({text[s:e]!r})"
                    ), unit=self.unit)
            elif isinstance(t, str):  # tokens without offsets: found in order in the text
                s = text.find(t, pos)
                if s < 0 or not t:
                    raise DataError(self.path, n, f"token {i} {t!r} is not in the text after character {pos}", unit=self.unit)
                e = s + len(t)
            else:
                raise DataError(self.path, n, f'token {i}: expected {{"text", "start", "end"}} or a string, got {str(t)[:60]}',
                                unit=self.unit)
            if s < pos:
                raise DataError(self.path, n, f"token {i} at [{s}, {e}) starts before the previous token ends; expected tokens in order",
                                unit=self.unit)
            ranges.append((s, e))
            pos = e
        keep = [i for i, (s, e) in enumerate(ranges) if is_word(text[s:e])]
        words = [ranges[i] for i in keep]
        index = {k: j for j, k in enumerate(keep)}
        groups = [[index[k] for k in g] for g in sentence_groups([text[s:e] for s, e in ranges], self.opts.language)]
        return words, groups

    def tally(self, text: str, outcomes: Sequence[sa.Outcome], n: int) -> None:
        for o in outcomes:
            self.conv.count("spans")
            said = f"{snippet(text[o.span.start:o.span.end])} ({o.span.label})"
            if o.trimmed:
                self.conv.count(sa.TRIMMED, example=f"{self.where(n)}: {said} -> {snippet(text[o.start:o.end])}")
            if o.dropped:
                extra = f", kept {snippet(text[o.kept_instead.start:o.kept_instead.end])} ({o.kept_instead.label})" if o.kept_instead else ""
                self.conv.count(o.dropped, example=f"{self.where(n)}: {said}{extra}")
                continue
            if o.snapped:
                self.conv.count(sa.SNAPPED, example=f"{self.where(n)}: {said} -> {snippet(text[o.start:o.end])}")
            self.conv.count(sa.KEPT)

    def meta(self) -> dict:
        fmt = self.layouts.most_common(1)[0][0] if self.layouts else "spans"
        return {"format": fmt, "separator": "-", "columns": 0, "label_column": -1, "label_name": "spans"}
