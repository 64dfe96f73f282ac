"""The shared vocabulary of labeled data: :class:`Sentence`, :class:`DataReport`, :class:`Dataset`,
the size limits and :func:`count`. No I/O.

This module sits below the readers (:mod:`tagger.readers` import it, never :mod:`tagger.data`) and
below :mod:`tagger.data`, which reads files and re-exports these names, so the import graph has
no cycle. The limits are read at call time as ``corpus.MAX_SENTENCES`` (tests and benchmarks
change them here, in this module).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from .schemes import OUTSIDE, entity_type

MAX_FILE_BYTES = 50_000_000  # a Space has little RAM; CoNLL-2003 train is 3 MB
MAX_SENTENCES = 200_000
__all__ = ["MAX_FILE_BYTES", "MAX_SENTENCES", "DataReport", "Dataset", "Sentence", "count"]


def count(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` with thousands separators and the noun in the right number.

    >>> count(1, "sentence"), count(1200, "sentence"), count(0, "entity", "entities")
    ('1 sentence', '1,200 sentences', '0 entities')
    """
    return f"{n:,} {noun if n == 1 else (plural or noun + 's')}"


@dataclass
class Sentence:
    """One sentence's words and tags (IOB2 or plain labels once :mod:`tagger.data` has read it).

    >>> Sentence(["Paris", "is"], ["B-LOC", "O"], line=3)
    Sentence(words=['Paris', 'is'], tags=['B-LOC', 'O'], line=3, doc=0)
    """

    words: list[str]
    tags: list[str]
    line: int = 0  # first line (or record) in the source file, for error messages
    doc: int = 0  # document index: sentences of one document share it, increasing through a data set


@dataclass
class DataReport:
    """What reading a data set found, for the CLI's ``report``, the app's data panel and the checkpoint.

    >>> r = DataReport("a.conll", "conll", "tab", 2, 1, "IOB2", sentences=2, words=5, documents=1,
    ...                labels={"PER": 2}, repaired=0, longest_sentence=3)
    >>> print(r.summary())
    a.conll: 2 sentences, 5 words, 1 document
    format conll (tab, 2 columns, labels from column 1); scheme IOB2; 0 sentences repaired; longest sentence 3 words
    labels: PER 2
    """

    file: str
    format: str  # reader: "conll", "conllu", "jsonl", "json", "parquet", "arrow", "doccano", "prodigy", "labelstudio", "spacy", "csv", "tsv"
    separator: str  # "tab", "whitespace", "comma, one row per token" ... or "-"
    columns: int
    label_column: int
    scheme: str  # scheme found in the file (the data itself is IOB2 or plain from here on)
    sentences: int
    words: int
    documents: int
    labels: dict[str, int]  # entity type -> entity count (plain: label -> word count)
    repaired: int  # sentences whose ill-formed tags were repaired
    longest_sentence: int  # in words
    warnings: list[str] = field(default_factory=list)
    label_name: str = ""  # the label column by name: "upos", "ner_tags", "spans", "column 3" ...
    conversion: dict[str, int] = field(default_factory=dict)  # outcome -> count (records, spans kept/snapped/dropped ...)
    examples: list[str] = field(default_factory=list)  # the first examples of each outcome: file, line/record, span text
    sources: list[str] = field(default_factory=list)  # one line per file when several were read as one data set
    label_choices: list[str] = field(default_factory=list)  # the label columns by name the file has (a UI picker's choices)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        labels = ", ".join(f"{k} {v}" for k, v in sorted(self.labels.items(), key=lambda kv: -kv[1]))
        if self.format == "conll":
            where = f"{self.separator}, {self.columns} columns, labels from column {self.label_column}"
        else:
            where = ", ".join(x for x in (self.separator if self.separator != "-" else "", f"labels from {self.label_name}") if x)
        lines = [
            (f"{self.file}: {count(self.sentences, 'sentence')}, {count(self.words, 'word')}, "
             f"{count(self.documents, 'document')}"),
            (f"format {self.format} ({where}); scheme {self.scheme}; {count(self.repaired, 'sentence')} repaired; "
             f"longest sentence {self.longest_sentence} words"),
            f"labels: {labels}",
        ]
        lines += [f"file: {s}" for s in self.sources[:8]]
        if len(self.sources) > 8:
            lines.append(f"file: … and {len(self.sources) - 8} more")
        if self.conversion:
            lines.append("conversion: " + "; ".join(f"{k} {v:,}" for k, v in self.conversion.items()))
        lines += [f"example: {e}" for e in self.examples]
        lines += [f"warning: {w}" for w in self.warnings]
        return "\n".join(lines)


@dataclass
class Dataset:
    sentences: list[Sentence]
    report: DataReport

    @property
    def tag_set(self) -> list[str]:
        """All IOB2 tags seen, ``O`` first, then by entity type (``B-X`` before ``I-X``).

        >>> Dataset([Sentence(["a", "b", "c"], ["I-PER", "O", "B-LOC"]), Sentence(["d"], ["B-PER"])], None).tag_set
        ['O', 'B-LOC', 'B-PER', 'I-PER']
        """
        tags = {t for s in self.sentences for t in s.tags}
        return sorted(tags, key=lambda t: (t != OUTSIDE, entity_type(t), t))
