"""Labeled data as users have it, read into IOB2 sentences plus a :class:`DataReport`.

Formats (one reader each in :mod:`tagger.readers`, detected per file): CoNLL columns, CoNLL-U,
token JSONL/JSON/Parquet/Arrow as ``datasets`` exports them, span JSONL from doccano and Prodigy,
Label Studio's JSON export, spaCy DocBin, CSV/TSV; several files or a zip as one data set.
Tags in any common scheme are normalised to IOB2 (or kept as plain labels for POS-like columns).
Bad input raises :class:`DataError` naming the file, the line or record, and what was expected.

This module sits on top of the readers: they share the data vocabulary through :mod:`tagger.corpus`
(``Sentence``, ``DataReport``, ``Dataset``, ``count``, the limits), which is re-exported here.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

from . import corpus, readers
from .corpus import MAX_FILE_BYTES, MAX_SENTENCES, DataReport, Dataset, Sentence, count  # re-exported (see __all__)
from .errors import DataError
from .readers.base import Conversion, ReadOptions, parse_label_list
from .schemes import SchemeError, breaks_scheme, detect_scheme, iob2_spans, to_iob2

FORMATS = readers.FORMATS  # format name -> description ("auto" detects)
__all__ = [
    "FORMATS", "MAX_FILE_BYTES", "MAX_SENTENCES", "DataError", "DataReport", "Dataset", "Sentence", "count", "parse_label_list",
    "read_file", "read_files", "split_holdout",
]


def _options(label_column: int | str, labels: str | Sequence[str] | None, snap: bool, annotator: str | None,
             language: str) -> ReadOptions:
    col: int | str = label_column
    if isinstance(col, str) and col.strip().lstrip("-").isdigit():
        col = int(col)
    return ReadOptions(col, parse_label_list(labels), snap, annotator.strip() if annotator and annotator.strip() else None, language)


def read_file(
    path: str | Path,
    label_column: int | str = -1,
    max_bytes: int = MAX_FILE_BYTES,
    *,
    fmt: str = "auto",
    labels: str | Sequence[str] | None = None,
    snap: bool = True,
    annotator: str | None = None,
    language: str = "en",
) -> Dataset:
    """Read one labeled file (a zip: every data file in it) into IOB2 sentences and a report.

    ``label_column``: a CoNLL column number (-1 = last) or a name (``upos``/``xpos``/``deprel`` for
    CoNLL-U, ``ner_tags``/``pos_tags`` for datasets exports and tables, ``ents``/``tag``/``pos`` for
    a DocBin). ``fmt``: a name from :data:`FORMATS` to override detection. ``labels``: names for
    integer tag ids, in id order. ``snap``: widen a span that cuts a word to the whole word (else
    drop it; both are counted). ``annotator``: whose Label Studio annotation to use.
    """
    opts = _options(label_column, labels, snap, annotator, language)
    path = Path(path)
    kind = _check(path, max_bytes, readers.canonical(fmt))
    if kind == "zip":
        return read_files([path], label_column, max_bytes, fmt=fmt, labels=labels, snap=snap, annotator=annotator, language=language)
    return _finish(_read_one(path, kind, opts))


def read_files(
    paths: Iterable[str | Path],
    label_column: int | str = -1,
    max_bytes: int = MAX_FILE_BYTES,
    *,
    fmt: str = "auto",
    labels: str | Sequence[str] | None = None,
    snap: bool = True,
    annotator: str | None = None,
    language: str = "en",
) -> Dataset:
    """Several files (zips are opened) as one data set: the format is detected per file unless
    ``fmt`` says otherwise; documents stay apart (each file's ``doc`` indices follow the last one's)."""
    import tempfile

    from .readers.archive import expand

    opts = _options(label_column, labels, snap, annotator, language)
    fmt = readers.canonical(fmt)
    paths = [Path(p) for p in paths]
    if not paths:
        raise DataError("training data", None, "no files given")
    with tempfile.TemporaryDirectory(prefix="tagger-data-") as tmp:
        files: list[tuple[Path, str]] = []
        skipped: list[str] = []
        for p in paths:
            kind = _check(p, max_bytes, fmt)
            if kind == "zip":
                members, skip = expand(p, Path(tmp), max_bytes)
                files += [(m, fmt) for m in members]
                skipped += skip
            else:
                files.append((p, kind))
        if not files:
            raise DataError(paths[0], None, "the archive holds no data files" + (f" (skipped: {', '.join(skipped[:5])})" if skipped else ""))
        parts = [_read_one(p, kind if kind != "auto" else _check(p, max_bytes, "auto"), opts) for p, kind in files]
    if len(parts) == 1 and not skipped:
        return _finish(parts[0])
    merged = _merge(parts)
    if skipped:
        merged.report.conversion["archive members skipped (not data)"] = len(skipped)
        merged.report.examples.append(f"archive members skipped (not data): {', '.join(skipped[:5])}")
    return _finish(merged)


def _check(path: Path, max_bytes: int, fmt: str) -> str:
    """Existence and size checks; then the format (``fmt`` unless it is ``auto``)."""
    if not path.is_file():
        raise DataError(path, None, "file not found")
    size = path.stat().st_size
    if size == 0:
        raise DataError(path, None, "the file is empty; expected labeled data (CoNLL, CoNLL-U, JSON lines, CSV ...)")
    if size > max_bytes:
        raise DataError(path, None, f"the file is {size / 1e6:.0f} MB; the limit is {max_bytes / 1e6:.0f} MB")
    with path.open("rb") as f:
        head = f.read(8192)
    detected = readers.detect(path, head)
    if detected == "zip" or fmt == "auto":
        return detected
    return fmt


def _read_one(path: Path, kind: str, opts: ReadOptions) -> Dataset:
    warnings: list[str] = []
    conv = Conversion()
    sentences, meta = readers.read(path, kind, opts, conv, warnings)
    if not sentences:
        raise DataError(path, None, "contains no sentences")
    return _normalise(path, sentences, meta, warnings, conv)


def _normalise(path: Path, sentences: list[Sentence], meta: dict, warnings: list[str], conv: Conversion) -> Dataset:
    try:
        scheme = detect_scheme([s.tags for s in sentences])
    except SchemeError as err:
        line, unit = None, "line"
        if err.index:
            s = sentences[err.index[0]]
            line = s.line + err.index[1] if meta["format"] == "conll" else s.line
            unit = {"parquet": "row", "arrow": "row", "spacy": "doc", "labelstudio": "task", "json": "record"}.get(meta["format"], "line")
        raise DataError(path, line, str(err), unit=unit) from None
    repaired = 0
    for s in sentences:
        repaired += breaks_scheme(s.tags, scheme)
        s.tags = to_iob2(s.tags, scheme)
    if repaired:
        breaks = "sentence breaks" if repaired == 1 else "sentences break"
        warnings.append(f"{repaired:,} {breaks} the {scheme} scheme; repaired (read as seqeval reads them)")
    if scheme == "IOB1+IOB2":
        warnings.append("IOB1 and IOB2 tags mixed; read with the IOB1 rule (I- after O opens an entity)")
    counts: Counter[str] = Counter()
    for s in sentences:
        counts.update(sp.label for sp in iob2_spans(s.tags))
    report = DataReport(
        file=path.name,
        scheme=scheme,
        sentences=len(sentences),
        words=sum(len(s.words) for s in sentences),
        documents=len({s.doc for s in sentences}),
        labels=dict(counts.most_common()),
        repaired=repaired,
        longest_sentence=max(len(s.words) for s in sentences),
        warnings=warnings,
        conversion=conv.counts,
        examples=conv.examples,
        **meta,
    )
    return Dataset(sentences, report)


def _merge(parts: list[Dataset]) -> Dataset:
    """Files read one by one -> one data set; a file of plain labels does not mix with entity tags."""
    plain = [p.report.file for p in parts if p.report.scheme == "plain"]
    tagged = [p.report.file for p in parts if p.report.scheme != "plain"]
    if plain and tagged:
        raise DataError(plain[0], None, f"plain labels (POS-like), but {tagged[0]} has entity tags (B-/I-); one data set needs one kind")
    sentences: list[Sentence] = []
    offset = 0
    conv = Conversion()
    warnings: list[str] = []
    for p in parts:
        docs = sorted({s.doc for s in p.sentences})
        remap = {d: offset + i for i, d in enumerate(docs)}
        for s in p.sentences:
            s.doc = remap[s.doc]
        offset += len(docs)
        sentences += p.sentences
        conv.merge(Conversion(dict(p.report.conversion), list(p.report.examples)))
        warnings += [f"{p.report.file}: {w}" for w in p.report.warnings]
    if len(sentences) > corpus.MAX_SENTENCES:  # looked up at call time, as the readers do (tests lower it)
        raise DataError(parts[-1].report.file, None, f"more than {corpus.MAX_SENTENCES:,} sentences in all; use fewer files")
    first = parts[0].report
    names = [p.report.file for p in parts]
    labels: Counter[str] = Counter()
    for p in parts:
        labels.update(p.report.labels)
    formats = list(dict.fromkeys(p.report.format for p in parts))
    report = DataReport(
        file=", ".join(names) if len(names) <= 3 else f"{names[0]}, {names[1]} and {len(names) - 2} more files",
        format="+".join(formats),
        separator=first.separator if all(p.report.separator == first.separator for p in parts) else "mixed",
        columns=first.columns,
        label_column=first.label_column,
        scheme="+".join(dict.fromkeys(p.report.scheme for p in parts)),
        sentences=len(sentences),
        words=sum(p.report.words for p in parts),
        documents=offset,
        labels=dict(labels.most_common()),
        repaired=sum(p.report.repaired for p in parts),
        longest_sentence=max(p.report.longest_sentence for p in parts),
        warnings=warnings,
        label_name=first.label_name if all(p.report.label_name == first.label_name for p in parts) else "mixed",
        label_choices=[c for c in first.label_choices if all(c in p.report.label_choices for p in parts)],
        conversion=conv.counts,
        examples=conv.examples,
        sources=[f"{p.report.file} ({p.report.format}, {count(p.report.sentences, 'sentence')})" for p in parts],
    )
    return Dataset(sentences, report)


def _finish(ds: Dataset) -> Dataset:
    """The warnings about the data set as a whole (after merging files)."""
    r = ds.report
    if not r.labels:
        r.warnings.append("no entities at all: every word is labelled O")
    rare = sorted(k for k, v in r.labels.items() if v == 1)
    if rare:
        r.warnings.append(f"labels seen only once: {', '.join(rare[:10])}")
    return ds


def split_holdout(sentences: Sequence[Sentence], fraction: float, seed: int) -> tuple[list[Sentence], list[Sentence]]:
    """Split off ``fraction`` of the sentences (at least one) as dev, reproducibly for a seed."""
    if len(sentences) < 2:  # a DataError (a ValueError) so the CLI reports it in one line
        raise DataError("training data", None, "need at least 2 sentences to hold out a dev set; upload a dev file")
    order = list(range(len(sentences)))
    random.Random(seed).shuffle(order)
    n_dev = max(1, round(len(sentences) * fraction))
    dev_ids = set(order[:n_dev])
    train = [s for i, s in enumerate(sentences) if i not in dev_ids]
    dev = [s for i, s in enumerate(sentences) if i in dev_ids]
    return train, dev
