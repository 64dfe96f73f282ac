"""What every reader shares: the read options, the conversion tally, line decoding, label ids."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import corpus
from ..errors import DataError

Lines = Callable[[], Iterator[tuple[int, str]]]  # a fresh (line number, line) iterator per call
MAX_EXAMPLES_PER_KIND = 3
MAX_EXAMPLES = 24


@dataclass(frozen=True)
class ReadOptions:
    """How to read a file. ``label_column``: a CoNLL column number (-1 = last), or a column name
    (``upos``, ``xpos``, ``deprel`` for CoNLL-U; ``ner_tags``, ``pos_tags`` for datasets exports and
    tables; ``ents``, ``tag``, ``pos`` for a DocBin). ``labels``: names for integer tag ids.
    ``snap``: a span that cuts a word is widened to the whole word (else dropped).
    ``annotator``: whose Label Studio annotation to use (else the most recent)."""

    label_column: int | str = -1
    labels: tuple[str, ...] | None = None
    snap: bool = True
    annotator: str | None = None
    language: str = "en"

    @property
    def column_name(self) -> str | None:
        """The label column as a lower-case name, or None when it is a number (or the default).

        >>> ReadOptions("UPOS").column_name, ReadOptions("3").column_name, ReadOptions(-1).column_name
        ('upos', None, None)
        """
        col = self.label_column
        if isinstance(col, str) and not col.strip().lstrip("-").isdigit():
            return col.strip().lower()
        return None

    def ignore_number(self, warnings: list[str], used: str) -> None:
        """Formats with named label columns read a column number other than -1 as "the default", and say so."""
        if self.column_name is None and self.column_number != -1:
            warnings.append(f"label column {self.label_column} is a number, but this format names its label columns; used {used}")

    @property
    def column_number(self) -> int:
        col = self.label_column
        return int(col) if self.column_name is None else -1


@dataclass
class Conversion:
    """Counts of what happened to the records and spans of a file, plus the first examples of each
    outcome, so that nothing is dropped or changed without the user being able to see it."""

    counts: dict[str, int] = field(default_factory=dict)
    examples: list[str] = field(default_factory=list)
    _per_kind: dict[str, int] = field(default_factory=dict)

    def count(self, kind: str, n: int = 1, example: str | None = None) -> None:
        """Add ``n`` to ``kind``; keep ``example`` if this kind has few examples so far.

        >>> c = Conversion()
        >>> c.count("spans: snapped to whole words", example="a.jsonl, line 3: 'Pari' -> 'Paris' (LOC)")
        >>> c.counts, c.examples
        ({'spans: snapped to whole words': 1}, ["spans: snapped to whole words: a.jsonl, line 3: 'Pari' -> 'Paris' (LOC)"])
        """
        self.counts[kind] = self.counts.get(kind, 0) + n
        if example is not None and self._per_kind.get(kind, 0) < MAX_EXAMPLES_PER_KIND and len(self.examples) < MAX_EXAMPLES:
            self._per_kind[kind] = self._per_kind.get(kind, 0) + 1
            self.examples.append(f"{kind}: {example}")

    def merge(self, other: Conversion) -> None:
        for kind, n in other.counts.items():
            self.counts[kind] = self.counts.get(kind, 0) + n
        for ex in other.examples:
            kind = max((k for k in other.counts if ex.startswith(f"{k}: ")), key=len, default=ex)
            if self._per_kind.get(kind, 0) < MAX_EXAMPLES_PER_KIND and len(self.examples) < MAX_EXAMPLES:
                self._per_kind[kind] = self._per_kind.get(kind, 0) + 1
                self.examples.append(ex)


def snippet(text: str, limit: int = 60) -> str:
    """Text for an example or an error message: one line, at most ``limit`` characters.

    >>> snippet("New\\nYork " * 20, 20)
    "'New York New York N…'"
    """
    one = " ".join(text.split()) if any(c in text for c in "\n\r\t") else text
    return repr(one if len(one) <= limit else one[: limit - 1] + "…").replace("\\'", "'")


def decode(raw: bytes, warnings: list[str], where: str = "") -> str:
    """UTF-8 (BOM dropped), else Latin-1 with a warning."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        warnings.append(f"{where}not valid UTF-8 (byte {err.start}); read as Latin-1")
        return raw.decode("latin-1")


def decode_lines(path: Path, warnings: list[str]) -> Lines:
    """Decode once, then hand out lazy line iterators: a list of line tuples would take many times
    the file size in memory (figures: docs/BENCHMARKS.md, "Figures from earlier sessions")."""
    text = decode(path.read_bytes(), warnings)
    if "\r" in text:  # \r\n and \r end a line too, as when reading the file in text mode
        text = text.replace("\r\n", "\n").replace("\r", "\n")

    def lines() -> Iterator[tuple[int, str]]:
        pos, n = 0, 0
        while pos < len(text):
            end = text.find("\n", pos)
            end = len(text) if end < 0 else end
            n += 1
            yield n, text[pos:end]
            pos = end + 1

    return lines


def stream_lines(path: Path, warnings: list[str]) -> Iterator[tuple[int, str]]:
    """(line number, line) read one line at a time: the memory held is one line, whatever the
    file's size (JSONL files of span records can be large). Latin-1 lines are warned about once."""
    warned = False
    with path.open("rb") as f:
        for n, raw in enumerate(f, 1):
            if n == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as err:
                if not warned:
                    warnings.append(f"line {n} is not valid UTF-8 (byte {err.start}); such lines read as Latin-1")
                    warned = True
                line = raw.decode("latin-1")
            yield n, line.rstrip("\r\n")


def check_count(path: Path, n_sentences: int, where: int | None, unit: str = "line") -> None:
    if n_sentences > corpus.MAX_SENTENCES:  # looked up at call time (tests lower it)
        raise DataError(path, where, f"more than {corpus.MAX_SENTENCES:,} sentences; split the file", unit=unit)


# --- label names for integer ids ---------------------------------------------------------------


def parse_label_list(value: str | Sequence[str] | None) -> tuple[str, ...] | None:
    """A user's label list: a sequence, a JSON list, or names separated by commas, spaces or lines.

    >>> parse_label_list("O, B-PER ,I-PER")
    ('O', 'B-PER', 'I-PER')
    >>> parse_label_list('["O", "B-LOC"]'), parse_label_list("O\\nB-X\\nI-X"), parse_label_list("  ")
    (('O', 'B-LOC'), ('O', 'B-X', 'I-X'), None)
    """
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if text.startswith("["):
            try:
                loaded = json.loads(text)
            except json.JSONDecodeError:
                loaded = None
            if isinstance(loaded, list):
                return tuple(str(x).strip() for x in loaded if str(x).strip())
        parts = text.split(",") if "," in text else text.splitlines() if "\n" in text else text.split()
        return tuple(p.strip() for p in parts if p.strip()) or None
    return tuple(str(x).strip() for x in value if str(x).strip()) or None


def label_names_from_features(features: Any) -> dict[str, list[str]]:
    """Column -> ClassLabel names from a ``datasets`` features dict (``dataset_info.json``, a
    Parquet file's ``huggingface`` metadata). Old (``Sequence``) and new (``List``) spellings.

    >>> label_names_from_features({"ner_tags": {"feature": {"names": ["O", "B-PER"], "_type": "ClassLabel"}, "_type": "List"},
    ...                            "tokens": {"feature": {"dtype": "string"}, "_type": "Sequence"}})
    {'ner_tags': ['O', 'B-PER']}
    """
    out: dict[str, list[str]] = {}
    if not isinstance(features, dict):
        return out
    for name, spec in features.items():
        inner = spec
        while isinstance(inner, dict) and isinstance(inner.get("feature"), dict):
            inner = inner["feature"]
        if isinstance(inner, dict) and isinstance(inner.get("names"), list):
            out[name] = [str(x) for x in inner["names"]]
    return out


def names_beside(path: Path) -> dict[str, list[str]]:
    """ClassLabel names from a ``dataset_info.json`` in the file's folder (as ``datasets`` writes it)."""
    info = path.parent / "dataset_info.json"
    if not info.is_file():
        return {}
    try:
        loaded = json.loads(info.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if isinstance(loaded, dict) and "features" not in loaded and len(loaded) == 1:  # {"config": {...}} (hub README style)
        loaded = next(iter(loaded.values()))
    return label_names_from_features(loaded.get("features") if isinstance(loaded, dict) else None)


class LabelMapper:
    """Tags of one column -> names: strings pass through, integer ids go through the user's list
    (first), or the ClassLabel names of that column; ids with no names are an error."""

    def __init__(self, path: Path, column: str, user: tuple[str, ...] | None, known: dict[str, list[str]]) -> None:
        self.path, self.column = path, column
        self.names: list[str] | None = list(user) if user else known.get(column)
        self.source = "the label list given" if user else ("dataset_info.json" if column in known else "")

    def __call__(self, tags: Sequence[Any], where: int, unit: str = "line") -> list[str]:
        out: list[str] = []
        for t in tags:
            if isinstance(t, str) and t.strip():
                out.append(t.strip())
            elif isinstance(t, int) and not isinstance(t, bool):
                if self.names is None:
                    raise DataError(self.path, where, (
                        f'"{self.column}" holds integer ids ({t}) with no label names; give the names in id order '
                        "(--labels O,B-PER,I-PER,… or the label list box) or put the dataset's dataset_info.json beside the file"
                    ), unit=unit)
                if not 0 <= t < len(self.names):
                    raise DataError(self.path, where, (
                        f'"{self.column}" id {t} has no name: {self.source} has {len(self.names)} names (ids 0..{len(self.names) - 1})'
                    ), unit=unit)
                out.append(self.names[t])
            else:
                raise DataError(self.path, where, (
                    f'every tag in "{self.column}" must be a label name or an integer id, got {t!r}'
                ), unit=unit)
        return out
