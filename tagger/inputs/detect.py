"""Which input format a file is, from its name and first bytes: a zip, a format the readers know
(:func:`tagger.readers.detect`), or else CoNLL columns or plain text by the look of the first lines.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import DataError
from .document import EXPECTED

_TAG = re.compile(r"^(O|[BIESLU][-_]\S+|[A-Z$]+|[.,:;()\"'`$#]+|_)$")  # a CoNLL label column: O, B-PER, NNP, punctuation


def looks_like_conll(lines: list[str]) -> bool:
    """Whether the first lines of a file are CoNLL columns (a word and labels, or a word per line)
    rather than plain text: ``-DOCSTART-``, or the same number of fields on every line with a
    label-like last field.

    >>> looks_like_conll(["EU B-ORG", "rejects O", "", "German B-MISC"]), looks_like_conll(["Angela Merkel met Macron.", "He left."])
    (True, False)
    >>> looks_like_conll(["EU", "rejects", "", "Peter"]), looks_like_conll(["Hello World"])
    (True, False)
    """
    rows = [ln for ln in lines if ln.strip()]
    if any(ln.startswith("-DOCSTART-") for ln in rows):
        return True
    if not rows:
        return False
    fields = [ln.split("\t") if "\t" in ln else ln.split() for ln in rows[:50]]
    widths = {len(f) for f in fields}
    if len(widths) != 1:
        return False
    width = widths.pop()
    if width == 1:  # one word per line: tokens (a few words alone on lines are rather text)
        return len(rows) >= 3 or len(rows) == 2 and any(not ln.strip() for ln in lines)
    return len(rows) >= 2 and width <= 12 and sum(bool(_TAG.match(f[-1].strip())) for f in fields) >= 0.9 * len(fields)


def detect_input(path: Path, head: bytes) -> str:
    """The input format of a file from its name and first bytes: ``zip`` or one of
    :data:`tagger.inputs.INPUT_FORMATS`."""
    from .. import readers

    suffix = path.suffix.lower()
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "zip"
    kind = readers.detect(path, head)  # raises for binary files, images, PDFs ...
    if kind in ("parquet", "arrow"):
        raise DataError(path, None, f"{kind} files are not read for tagging; {EXPECTED}")
    if kind in ("spacy", "conllu", "json"):
        return kind
    if kind in ("jsonl", "spans", "labelstudio"):
        return "jsonl"
    if suffix in (".csv", ".tsv") or kind in ("csv", "tsv"):
        return "tsv" if suffix == ".tsv" or kind == "tsv" else "csv"
    if suffix in (".conll", ".iob", ".bio", ".iob2", ".bioes", ".conll03"):
        return "conll"
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff")
    sample = text.replace("\r\n", "\n").split("\n")
    if len(head) >= 8192:
        sample = sample[:-1]  # the last line may be cut
    return "conll" if looks_like_conll(sample[:200]) else "text"
