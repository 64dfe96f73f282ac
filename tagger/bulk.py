"""Tag whole files: documents streamed from :mod:`tagger.inputs`, tagged in batches across
documents, written by :mod:`tagger.outputs`. Plain values in and out, no UI.

Raw text goes through the same path as :meth:`tagger.predict.Predictor.predict_batch` (spaCy words
and sentences, then ``tag_words`` with one document id per text); pre-split sentences (CoNLL,
CoNLL-U, DocBin) go straight to ``tag_words`` with their document ids, as
:func:`tagger.evaluation.evaluate` tags them, so tagging a CoNLL file gives the labels that
``tagger evaluate`` scores.

**The score of an entity** is the mean of its words' confidences (each word's confidence is the
model's probability for its label), as in :attr:`tagger.predict.Entity.score`. A ``threshold`` X
in [0, 1] drops the entities whose score is below X: they are left out of the spans, and in
CoNLL output their words are tagged ``O``. 0 (the default) keeps every entity.
"""

from __future__ import annotations

import math
import time
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from itertools import islice
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from .errors import DataError, InputError, TaggerError
from .inputs import Document, Documents, ReadSettings, split_long
from .outputs import Span, Tagged, Token, open_writer, output_format, record
from .schemes import iob2_spans, split_tag
from .words import entity_end

if TYPE_CHECKING:
    from .predict import Predictor

BATCH_WORDS = 32_768  # words gathered across documents per tag_words call: enough windows of each length for full batches
CHUNK_CHARS = 100_000  # a longer text is split (at blank lines, else line ends) before spaCy sees it
AUTO_MIN_BYTES = 100_000  # backend="auto": the hand-over costs seconds (session, a second run of the sample), worth it above this
AUTO_SAMPLE_WORDS = 4_096  # backend="auto": the first batch, tagged by both backends to compare their labels
_TWINS: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()  # torch predictor -> its ONNX Runtime twin
Progress = Callable[[int, int, int, int], None]  # (documents done, words done, bytes read, total bytes)
Offsets = tuple[str, int, int]


class TaggingCancelled(TaggerError, RuntimeError):
    """``should_stop`` returned True; no output was written."""


@dataclass(frozen=True)
class TagSummary:
    """What :func:`tag_file` did."""

    documents: int
    sentences: int
    words: int
    entities: int
    dropped: int  # entities under the threshold
    seconds: float
    output: str | None  # None: written to a stream (stdout)
    format: str  # the output format
    input_format: str
    backend: str  # "torch", "onnx" ...
    warnings: list[str] = field(default_factory=list)

    @property
    def words_per_second(self) -> float:
        return self.words / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "words_per_second": self.words_per_second}


def check_threshold(threshold: Any) -> float:
    """A threshold as a float in [0, 1], else a clear error.

    >>> check_threshold(0.5), check_threshold(1)
    (0.5, 1.0)
    >>> check_threshold(1.5)
    Traceback (most recent call last):
    ...
    tagger.errors.InputError: threshold must be a number from 0 to 1 (an entity's score is the mean confidence of its words), got 1.5
    """
    try:
        value = float(threshold)
    except (TypeError, ValueError):
        value = math.nan
    if isinstance(threshold, bool) or not 0.0 <= value <= 1.0:
        raise InputError(f"threshold must be a number from 0 to 1 (an entity's score is the mean confidence of its words), got {threshold!r}")
    return value


def tag_sentence(words: Sequence[Offsets], tags: Sequence[tuple[str, float]], text: str, threshold: float = 0.0) -> tuple[list[Token], list[Span], int]:
    """One sentence's words (with character offsets into ``text``) and their (label, confidence)
    -> its tokens with output tags, the entities whose score (the mean confidence of their words)
    is at least ``threshold``, and how many were dropped. A dropped entity's words are tagged ``O``.

    >>> words = [("Ann", 0, 3), ("Lee", 4, 7), ("in", 8, 10), ("Rome", 11, 15)]
    >>> tokens, spans, dropped = tag_sentence(words, [("B-PER", 0.9), ("I-PER", 0.7), ("O", 0.99), ("B-LOC", 0.5)], "Ann Lee in Rome", 0.6)
    >>> [(s.text, s.label, round(s.score, 2)) for s in spans], [t.tag for t in tokens], dropped
    ([('Ann Lee', 'PER', 0.8)], ['B-PER', 'I-PER', 'O', 'O'], 1)
    >>> tag_sentence([("M&M.", 0, 4)], [("B-ORG", 0.9)], "M&M.")[1][0].text  # no sentence punctuation in a name
    'M&M'
    """
    out = ["O"] * len(words)
    spans: list[Span] = []
    dropped = 0
    for sp in iob2_spans([label for label, _ in tags]):
        score = sum(c for _, c in tags[sp.start : sp.end]) / (sp.end - sp.start)  # as tagger.predict.Entity.score
        if score < threshold:
            dropped += 1
            continue
        plain = split_tag(tags[sp.start][0])[0] == ""  # POS-like labels stay as they are
        for k in range(sp.start, sp.end):
            out[k] = sp.label if plain else f"{'B' if k == sp.start else 'I'}-{sp.label}"
        last = words[sp.end - 1]
        start, end = words[sp.start][1], last[1] + entity_end(last[0])  # as tagger.predict: "M&M." -> "M&M"
        spans.append(Span(start, end, sp.label, score, text[start:end]))
    tokens = [Token(w, s, e, tag, conf) for (w, s, e), tag, (_, conf) in zip(words, out, tags)]
    return tokens, spans, dropped


def joined(sentences: Sequence[Sequence[str]]) -> tuple[str, list[list[Offsets]]]:
    """Pre-split words -> the text of the words joined by single spaces, and their offsets in it.

    >>> joined([["EU", "rejects"], ["Yes"]])
    ('EU rejects Yes', [[('EU', 0, 2), ('rejects', 3, 10)], [('Yes', 11, 14)]])
    """
    out: list[list[Offsets]] = []
    pos = 0
    for sent in sentences:
        row = []
        for w in sent:
            row.append((w, pos, pos + len(w)))
            pos += len(w) + 1
        out.append(row)
    return " ".join(w for s in sentences for w in s), out


def _build(doc: Document, text: str, sentences: list[list[Offsets]], tags: list[list[tuple[str, float]]], threshold: float) -> tuple[Tagged, int]:
    toks: list[tuple[Token, ...]] = []
    spans: list[Span] = []
    dropped = 0
    for words, sent_tags in zip(sentences, tags):
        t, s, d = tag_sentence(words, sent_tags, text, threshold)
        toks.append(tuple(t))
        spans += s
        dropped += d
    return Tagged(doc, text, tuple(toks), tuple(spans)), dropped


def _split_texts(predictor: Predictor, docs: Sequence[Document]) -> list[list[list[Offsets]]]:
    """Each raw text's sentences of (word, start, end), as ``predict_batch`` splits them (a text
    over :data:`CHUNK_CHARS` in pieces, cut at blank lines where it can)."""
    from .words import split_sentences, split_words

    lang = predictor.tagger.config.language
    out = []
    for doc in docs:
        sents: list[list[Offsets]] = []
        for offset, piece in split_long(doc.text or "", CHUNK_CHARS):
            found = split_sentences(piece, lang) if predictor.sentences else [split_words(piece, lang)]
            sents += [[(w, s + offset, e + offset) for w, s, e in sent] for sent in found] if offset else found
        out.append(sents)
    return out


def tag_batch(predictor: Predictor, docs: Sequence[Document], threshold: float = 0.0) -> list[tuple[Tagged, int]]:
    """Tag documents together (one ``tag_words`` call for the raw texts, one for the pre-split
    ones); each result equals tagging that document alone. Returns (tagged, entities dropped)."""
    raw = [i for i, d in enumerate(docs) if d.sentences is None]
    split = [i for i, d in enumerate(docs) if d.sentences is not None]
    words: dict[int, tuple[str, list[list[Offsets]]]] = {}
    for i, sents in zip(raw, _split_texts(predictor, [docs[i] for i in raw])):
        words[i] = (docs[i].text or "", sents)
    for i in split:
        words[i] = joined(docs[i].sentences or ())
    tags: dict[int, list[list[tuple[str, float]]]] = {}
    for group in (raw, split):
        flat = [[w for w, _, _ in sent] for i in group for sent in words[i][1]]
        ids = [i for i in group for _ in words[i][1]]  # a document id per sentence: context-trained taggers read them together
        if not flat:
            continue
        it = iter(predictor.tag_words(flat, ids))
        for i in group:
            tags[i] = [next(it) for _ in words[i][1]]
    return [_build(d, words[i][0], words[i][1], tags.get(i, []), threshold) for i, d in enumerate(docs)]


def batches(docs: Iterable[Document], batch_words: int = BATCH_WORDS, first_words: int | None = None) -> Iterator[list[Document]]:
    """Documents gathered until they hold about ``batch_words`` words (whitespace-separated); the
    first batch ``first_words`` (a sample to check a backend on, tagged soon)."""
    batch: list[Document] = []
    n = 0
    limit = first_words or batch_words
    for doc in docs:
        batch.append(doc)
        n += doc.n_words
        if n >= limit:
            yield batch
            batch, n, limit = [], 0, batch_words
    if batch:
        yield batch


def model_name(predictor: Predictor) -> str:
    """A name for the model (Label Studio's ``model_version``): the run's display name, else its folder."""
    meta = getattr(predictor.tagger, "meta", {}) or {}
    run = meta.get("run") if isinstance(meta.get("run"), dict) else {}
    return str(run.get("name") or meta.get("name") or getattr(predictor, "name", "") or "bert-tagger")


def backend_name(predictor: Predictor) -> str:
    """``onnx``, ``torch int8`` (quantised linear layers) or ``torch``."""
    model = predictor.model
    if type(model).__name__ == "OnnxModel":
        return "onnx"
    return "torch int8" if any("quantized" in type(m).__module__ for m in model.modules()) else "torch"


def onnx_twin(predictor: Predictor, sample: Sequence[Document], reference: list[tuple[Tagged, int]], threshold: float) -> Predictor | None:
    """An ONNX Runtime copy of a torch fp32 CPU ``predictor`` if it gives the same labels on
    ``sample`` (whose torch results are ``reference``), else None (also without onnxruntime)."""
    from .predict import Predictor

    if backend_name(predictor) != "torch" or predictor.device.type != "cpu":
        return None
    twin = _TWINS.get(predictor)
    if twin is None:  # an ONNX Runtime session takes seconds to make: one per predictor, reused for the next files
        try:
            twin = Predictor(predictor.tagger, batch_size=predictor.batch_size, max_length=predictor.max_length, backend="onnx",
                             sentences=predictor.sentences)
        except ImportError:
            return None
        _TWINS[predictor] = twin
    again = tag_batch(twin, sample, threshold)
    same = all([t.tag for s in a.sentences for t in s] == [t.tag for s in b.sentences for t in s] for (a, _), (b, _) in zip(again, reference))
    return twin if same else None


def _threads() -> int:
    """torch's thread count (ONNX Runtime sessions take the same): with one thread, ONNX Runtime is
    hardly faster than torch (docs/BENCHMARKS.md, "Tagging files"), so ``auto`` keeps torch."""
    import torch

    return torch.get_num_threads()


def _check_paths(input_path: Path, output_path: str | Path | None) -> None:
    if output_path is not None and Path(output_path).resolve() == input_path.resolve():
        raise DataError(output_path, None, "the output would replace the input file; choose another output name")


def tag_file(
    predictor: Predictor,
    input_path: str | Path,
    output_path: str | Path | None,
    *,
    to: str | None = None,
    threshold: float = 0.0,
    text_field: str = "text",
    text_column: str = "text",
    lines: bool = False,
    fmt: str = "auto",
    batch_size: int = BATCH_WORDS,
    max_bytes: int | None = None,
    backend: str = "auto",
    on_progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
    stream: IO[str] | None = None,
    model_version: str | None = None,
) -> TagSummary:
    """Tag every document of ``input_path`` and write them to ``output_path`` (its extension picks
    the format, ``to`` overrides; ``None`` writes JSON lines, or ``to``, to ``stream``/stdout).

    ``fmt``: the input format (``auto`` detects it; see :data:`tagger.inputs.INPUT_FORMATS`);
    ``text_field``/``text_column``: where the text is in JSON records / CSV rows; ``lines``: each
    line of a plain-text file is a document. ``batch_size``: words per model call, gathered across
    documents. ``max_bytes``: refuse bigger files (None: no limit). ``backend="auto"``: a torch fp32
    CPU predictor hands over to ONNX Runtime after a first batch of :data:`AUTO_SAMPLE_WORDS` words
    when it is installed, the input is over :data:`AUTO_MIN_BYTES`, there is more to tag, and it
    gives the same labels on that batch (``"keep"``: never).
    With one thread ``auto`` keeps torch (ONNX Runtime is hardly faster there).
    ``on_progress(documents, words, bytes read, total bytes)`` after each batch; ``should_stop()``
    before each: True cancels (:class:`TaggingCancelled`). Any error, a cancel or Ctrl-C leaves no
    output file and no temporary file."""
    threshold = check_threshold(threshold)
    fmt_out = output_format(output_path, to)
    if backend not in ("auto", "keep"):
        raise InputError(f"backend must be 'auto' or 'keep' here (choose torch/onnx when making the Predictor), got {backend!r}")
    docs = Documents(input_path, fmt, max_bytes, ReadSettings(text_field, text_column, lines, predictor.tagger.config.language))
    _check_paths(docs.path, output_path)
    t0 = time.perf_counter()
    n = {"documents": 0, "sentences": 0, "words": 0, "entities": 0, "dropped": 0}
    active = predictor
    try:
        with open_writer(output_path, to, stream=stream, model_version=model_version or model_name(predictor),
                         language=predictor.tagger.config.language) as writer:
            auto = backend == "auto" and docs.total_bytes > AUTO_MIN_BYTES and _threads() > 1
            it = batches(docs, batch_size, min(batch_size, AUTO_SAMPLE_WORDS) if auto else None)
            upcoming = next(it, None)
            first = True
            while upcoming is not None:
                batch, upcoming = upcoming, next(it, None)  # one batch ahead: is there more after this one?
                if should_stop is not None and should_stop():
                    raise TaggingCancelled("tagging cancelled; no output was written")
                results = tag_batch(active, batch, threshold)
                if first and upcoming is not None and auto:
                    active = onnx_twin(predictor, batch, results, threshold) or predictor
                first = False
                for tagged, dropped in results:
                    writer.write(tagged)
                    n["documents"] += 1
                    n["sentences"] += len(tagged.sentences)
                    n["words"] += tagged.n_words
                    n["entities"] += len(tagged.entities)
                    n["dropped"] += dropped
                if on_progress is not None:
                    on_progress(n["documents"], n["words"], batch[-1].bytes_read, docs.total_bytes)
    finally:
        docs.close()
    return TagSummary(**n, seconds=time.perf_counter() - t0, output=None if output_path is None else str(output_path), format=fmt_out,
                      input_format=docs.format, backend=backend_name(active), warnings=list(docs.warnings))


def _first(input_path: str | Path, n: int, fmt: str, max_bytes: int | None, settings: ReadSettings) -> list[Document]:
    docs = Documents(input_path, fmt, max_bytes, settings)
    it = iter(docs)
    try:
        return list(islice(it, n))
    finally:
        it.close()  # a zip's extracted members go at once
        docs.close()


def preview(input_path: str | Path, n: int = 10, *, text_field: str = "text", text_column: str = "text", lines: bool = False,
            fmt: str = "auto", max_bytes: int | None = None, chars: int = 300) -> list[dict[str, Any]]:
    """The first ``n`` documents as rows for a table (no model): ``id``, ``where`` (file, line),
    ``text`` (the first ``chars`` characters; pre-split words joined by spaces), ``sentences``
    (pre-split input only, else None) and ``fields`` (the record's other fields)."""
    out = []
    for doc in _first(input_path, n, fmt, max_bytes, ReadSettings(text_field, text_column, lines)):
        text = doc.text if doc.text is not None else " ".join(w for s in doc.sentences or () for w in s)
        out.append({
            "id": doc.id, "where": doc.location, "text": text if len(text) <= chars else text[: chars - 1] + "…",
            "sentences": len(doc.sentences) if doc.sentences is not None else None,
            "fields": {k: v for k, v in doc.fields.items() if k != doc.text_key},
        })
    return out


def first_results(predictor: Predictor, input_path: str | Path, n: int = 5, *, threshold: float = 0.0, text_field: str = "text",
                  text_column: str = "text", lines: bool = False, fmt: str = "auto", max_bytes: int | None = None) -> list[dict[str, Any]]:
    """The first ``n`` documents tagged, as the records the ``.jsonl`` output holds (a quick look
    before tagging the whole file)."""
    threshold = check_threshold(threshold)
    docs = _first(input_path, n, fmt, max_bytes, ReadSettings(text_field, text_column, lines, predictor.tagger.config.language))
    return [record(tagged) for tagged, _ in tag_batch(predictor, docs, threshold)]
