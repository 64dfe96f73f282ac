"""Whole files tagged as jobs in the app, with no Gradio (:class:`FileJobs`): in a background thread, one at
a time, first in, first out, each job owned by its caller (only the owner sees or cancels it): the size
limits (``TAGGER_TAG_FILE_MAX_MB``, ``TAGGER_TAG_FILE_MAX_DOCS``) checked first, then one pass of the model
over the documents, each tagged document written to every requested format at once (:func:`tag_to_outputs`).
A cancel, an error or a restart leaves no output file.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import shutil
import tempfile
import threading
import time
import zipfile
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tagger.bulk import TaggingCancelled, backend_name, check_threshold, model_name, tag_batch
from tagger.errors import TaggerError
from tagger.inputs import Document, Documents, ReadSettings, size_text
from tagger.outputs import OUTPUT_FORMATS, open_writer, record

from .settings import AppSettings

log = logging.getLogger(__name__)

START_WORDS = 512  # the first model call of a file job: the pace is known soon
MAX_CALL_WORDS = 32_768  # the most words in one model call of a file job (tagger.bulk.BATCH_WORDS)
CALL_SECONDS = 1.0  # a file job's model calls are sized to last about this long: Cancel acts within about that
KEEP_FINISHED = 16  # finished file jobs whose outputs are kept for download (older ones are removed)
FIRST_RESULTS = 10  # records of the first documents kept to show
QUEUED, RUNNING, DONE, CANCELLED, FAILED = "queued", "running", "done", "cancelled", "failed"



class FileRefused(TaggerError, ValueError):
    """A file job that cannot start (over a limit, the queue full, one of the caller's already active)."""



@dataclass(frozen=True)
class FileOptions:
    """Where the text is: ``text_field`` of JSON records, ``text_column`` of CSV/TSV rows; ``lines``:
    each line of a plain-text file is a document (else the file is one, read in parts)."""

    text_field: str = "text"
    text_column: str = "text"
    lines: bool = False

    def read_settings(self, language: str = "en") -> ReadSettings:
        return ReadSettings(self.text_field.strip() or "text", self.text_column.strip() or "text", bool(self.lines), language)


@dataclass(frozen=True)
class Limits:
    """The app's limits on a file to tag."""

    max_bytes: int
    max_docs: int

    @classmethod
    def from_settings(cls, settings: AppSettings) -> Limits:
        return cls(int(settings.tag_file_max_mb * 1_000_000), settings.tag_file_max_docs)


def unpacked_size(path: Path) -> tuple[int, bool]:
    """The bytes to read (a zip: its members unpacked) and whether it is a zip."""
    if zipfile.is_zipfile(path):
        with contextlib.suppress(zipfile.BadZipFile, OSError), zipfile.ZipFile(path) as z:
            return sum(i.file_size for i in z.infolist() if not i.is_dir()), True
    return path.stat().st_size, False


def check_size(path: Path, limits: Limits, name: str) -> None:
    """Refuse a file over ``TAGGER_TAG_FILE_MAX_MB`` with the figures, the variable and what to do."""
    size, packed = unpacked_size(path)
    if size > limits.max_bytes:
        what = "its files unpacked are" if packed else "the file is"
        raise FileRefused(f"{name}: {what} {size_text(size)}, over this app's limit of {size_text(limits.max_bytes)} for a "
                          "file to tag (TAGGER_TAG_FILE_MAX_MB); split the file, or raise the limit where the app runs.")


def open_documents(path: Path, options: FileOptions, limits: Limits, name: str, language: str = "en") -> Documents:
    """The file's documents, after the checks that need no reading (size, empty, binary, format)."""
    if not path.is_file():
        raise FileRefused(f"{name}: the upload is gone from the server; upload the file again.")
    check_size(path, limits, name)
    return Documents(path, "auto", limits.max_bytes, options.read_settings(language))


def count_documents(path: Path, options: FileOptions, limits: Limits, name: str) -> tuple[int, int]:
    """(documents, words) of the file: one read through it, which also finds a bad record before any
    tagging, and refuses a file of more than ``TAGGER_TAG_FILE_MAX_DOCS`` documents."""
    docs, words = 0, 0
    for doc in open_documents(path, options, limits, name):
        docs += 1
        words += doc.n_words
        if docs > limits.max_docs:
            raise FileRefused(f"{name} holds more than {limits.max_docs:,} documents, this app's limit for a file to tag "
                              "(TAGGER_TAG_FILE_MAX_DOCS); split the file, or raise the limit where the app runs.")
    return docs, words


def _bounds(sentences: Sequence[Any], docs: Sequence[int] | None, words: int, whole_docs: bool) -> Iterator[tuple[int, int]]:
    """``sentences`` cut into runs of about ``words`` words; ``whole_docs``: only where the document
    id changes (a tagger that reads document context sees each document whole).

    >>> list(_bounds([["a"] * 3] * 4, [0, 0, 1, 1], 5, False)), list(_bounds([["a"] * 3] * 4, [0, 0, 1, 1], 5, True))
    ([(0, 2), (2, 4)], [(0, 2), (2, 4)])
    >>> list(_bounds([["a"] * 3] * 4, [0, 0, 0, 1], 1, True))
    [(0, 3), (3, 4)]
    """
    start, n = 0, 0
    for i, sent in enumerate(sentences):
        if n >= words and (not whole_docs or docs is None or docs[i] != docs[i - 1]):
            yield start, i
            start, n = i, 0
        n += len(sent)
    if start < len(sentences):
        yield start, len(sentences)


class Paced:
    """A predictor whose ``tag_words`` works in calls of about :data:`CALL_SECONDS` (sized from the pace so
    far): ``should_stop`` is asked before each, so a cancel acts within about that, and ``on_step``
    hears the share of the current call's sentences done. Each word gets the label it gets in one call."""

    def __init__(self, predictor: Any, should_stop: Callable[[], bool], on_step: Callable[[float], None]) -> None:
        self.predictor, self.should_stop, self.on_step = predictor, should_stop, on_step
        self.words_per_call = START_WORDS
        self.whole_docs = getattr(predictor.tagger.config, "context", 0) > 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.predictor, name)

    def tag_words(self, sentences: Sequence[Sequence[str]], docs: Sequence[int] | None = None) -> list[list[tuple[str, float]]]:
        out: list[list[tuple[str, float]]] = []
        for lo, hi in list(_bounds(sentences, docs, self.words_per_call, self.whole_docs)):
            if self.should_stop():
                raise TaggingCancelled("tagging cancelled; no output was written")
            t0 = time.perf_counter()
            out += self.predictor.tag_words(sentences[lo:hi], None if docs is None else docs[lo:hi])
            words, seconds = sum(len(s) for s in sentences[lo:hi]), time.perf_counter() - t0
            if words and seconds > 0:
                self.words_per_call = int(min(MAX_CALL_WORDS, max(256, words / seconds * CALL_SECONDS)))
            self.on_step(hi / max(1, len(sentences)))
        return out


@dataclass
class FileResult:
    """What :func:`tag_to_outputs` did; ``first``: the ``.jsonl`` records of the first documents."""

    documents: int = 0
    sentences: int = 0
    words: int = 0
    entities: int = 0
    dropped: int = 0  # entities scored under the threshold
    seconds: float = 0.0
    input_format: str = ""
    backend: str = ""
    warnings: list[str] = field(default_factory=list)
    first: list[dict[str, Any]] = field(default_factory=list)


def _doc_batches(docs: Iterable[Document], words: int) -> Iterator[list[Document]]:
    batch: list[Document] = []
    n = 0
    for doc in docs:
        batch.append(doc)
        n += doc.n_words
        if n >= words:
            yield batch
            batch, n = [], 0
    if batch:
        yield batch


def tag_to_outputs(predictor: Any, path: Path, outputs: dict[str, Path], *, threshold: float = 0.0,
                   options: FileOptions = FileOptions(), limits: Limits | None = None, name: str = "",
                   on_progress: Callable[[int, float], None] | None = None, should_stop: Callable[[], bool] | None = None,
                   model_version: str | None = None) -> FileResult:
    """Tag every document of ``path`` once and write it to each of ``outputs`` (format -> file) as it
    comes: the same pass of the model gives every format. As :func:`tagger.bulk.tag_file` tags
    (:func:`tagger.bulk.tag_batch`, documents gathered across), in model calls of about a second.
    ``on_progress(documents done, words done)`` (words: whitespace-separated, as counted by
    :func:`count_documents`, the current call's share included). An error or a cancel
    (``should_stop``, :class:`~tagger.bulk.TaggingCancelled`) leaves none of the outputs."""
    threshold = check_threshold(threshold)
    lang = predictor.tagger.config.language
    limits = limits or Limits(1 << 62, 1 << 62)
    docs = open_documents(path, options, limits, name or path.name, lang)
    result, t0 = FileResult(input_format=docs.format, backend=backend_name(predictor)), time.perf_counter()
    done_words, batch_words = 0, 0

    def step(share: float) -> None:
        if on_progress is not None:
            on_progress(result.documents, done_words + share * batch_words)

    paced = Paced(predictor, should_stop or (lambda: False), step)
    try:
        with contextlib.ExitStack() as stack:
            writers = [stack.enter_context(open_writer(p, fmt, model_version=model_version or model_name(predictor), language=lang))
                       for fmt, p in outputs.items()]
            for batch in _doc_batches(docs, MAX_CALL_WORDS):
                batch_words = sum(d.n_words for d in batch)
                for tagged, dropped in tag_batch(paced, batch, threshold):
                    for writer in writers:
                        writer.write(tagged)
                    if len(result.first) < FIRST_RESULTS:
                        result.first.append(record(tagged))
                    result.documents, result.sentences = result.documents + 1, result.sentences + len(tagged.sentences)
                    result.words, result.entities = result.words + tagged.n_words, result.entities + len(tagged.entities)
                    result.dropped += dropped
                done_words += batch_words
                batch_words = 0
                step(0.0)
    finally:
        docs.close()
    result.seconds, result.warnings = time.perf_counter() - t0, list(docs.warnings)
    return result


# ------------------------------------------------------------------------------------------ file jobs
def output_names(input_name: str, formats: Iterable[str]) -> dict[str, str]:
    """Output file names, from the input's name (its stem, made safe) and each format.

    >>> output_names("my notes.v2.jsonl", ["jsonl", "json", "conll"])
    {'jsonl': 'my_notes.v2-tagged.jsonl', 'json': 'my_notes.v2-tagged.label-studio.json', 'conll': 'my_notes.v2-tagged.conll'}
    """
    stem = "".join(c if c.isalnum() or c in "._-" else "_" for c in Path(input_name).stem)[:80].strip("._") or "input"
    return {fmt: f"{stem}-tagged{'.label-studio' if fmt == 'json' else ''}{OUTPUT_FORMATS[fmt]}" for fmt in formats}


@dataclass(frozen=True)
class FileSpec:
    """What a file job tags: the input (a copy in the job's folder), the model, the threshold, the formats."""

    input_path: Path
    input_name: str
    model: str
    predictor: Any
    threshold: float
    formats: tuple[str, ...]
    options: FileOptions


class FileJob:
    """One file being tagged (read it through :meth:`snapshot`)."""

    def __init__(self, job_id: str, owner: str | None, spec: FileSpec, folder: Path) -> None:
        self.id, self.owner, self.spec, self.folder = job_id, owner, spec, folder
        self.state, self.phase = QUEUED, "waiting"
        self.created, self.ended = time.time(), None
        self.clock: tuple[float, float] | None = None  # (time, progress) when tagging began: the ETA counts from it
        self.total_docs, self.total_words = 0, 0
        self.docs_done, self.words_done = 0, 0.0
        self.outputs: dict[str, Path] = {}
        self.result: FileResult | None = None
        self.error = ""
        self.stop = threading.Event()
        self.ended_event = threading.Event()  # set when it ends (a caller that waits for it wakes at once)
        self.version = 0  # bumped on every change that a page should redraw

    @property
    def finished(self) -> bool:
        return self.state not in (QUEUED, RUNNING)

    @property
    def progress(self) -> float:
        if self.state == DONE:
            return 1.0
        return min(1.0, self.words_done / self.total_words) if self.total_words else 0.0

    def eta(self, now: float | None = None) -> float | None:
        """Seconds left, from the pace since tagging began (None until there is a pace to go by)."""
        if self.state != RUNNING or self.clock is None:
            return None
        (t0, p0), p = self.clock, self.progress
        elapsed = (now or time.monotonic()) - t0
        if p - p0 < 0.01 or elapsed < 1.0:
            return None
        return max(0.0, elapsed / (p - p0) * (1.0 - p))

    def advance(self, docs: int, words: float) -> None:
        self.docs_done, self.words_done = docs, words
        self.version += 1


class FileJobs:
    """File jobs, one running at a time (a thread), at most ``max_waiting`` waiting, one active per
    owner; the outputs of the last :data:`KEEP_FINISHED` finished jobs are kept for download."""

    def __init__(self, limits: Limits, max_waiting: int = 4, root: Path | None = None) -> None:
        self.limits, self.max_waiting = limits, max_waiting
        self.root = Path(tempfile.mkdtemp(prefix="bert-tagger-files-", dir=root))
        self._jobs: OrderedDict[str, FileJob] = OrderedDict()
        self._waiting: deque[FileJob] = deque()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False

    def _check_room(self, owner: str | None) -> None:
        if self._closed:
            raise FileRefused("Cannot tag a file now: the app is shutting down.")
        if owner is not None and any(j.owner == owner and not j.finished for j in self._jobs.values()):
            raise FileRefused("You already have a file being tagged (or waiting); wait for it to finish, or cancel it.")
        if len(self._waiting) >= self.max_waiting:
            raise FileRefused(f"The app is busy: {len(self._waiting)} files are waiting to be tagged; try again in a few minutes.")

    def submit(self, owner: str | None, predictor: Any, upload: str | Path, *, model: str, threshold: Any = 0.0,
               formats: Sequence[str] = tuple(OUTPUT_FORMATS), options: FileOptions = FileOptions(), name: str | None = None) -> FileJob:
        """Check the file (size, empty, binary, format) and the settings at once, then queue the job
        (the upload is copied: Gradio may clear its cache while the job waits or runs)."""
        path = Path(upload)
        name = name or path.name
        threshold = check_threshold(threshold)
        unknown = [f for f in formats if f not in OUTPUT_FORMATS]
        if unknown or not formats:
            raise FileRefused(f"unknown output format {', '.join(map(str, unknown)) or '(none)'}; expected one of: {', '.join(OUTPUT_FORMATS)}")
        open_documents(path, options, self.limits, name).close()
        with self._cond:
            self._check_room(owner)
        job_id = f"tag-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"
        folder = self.root / job_id
        (folder / "in").mkdir(parents=True)
        copy = folder / "in" / path.name
        shutil.copyfile(path, copy)
        job = FileJob(job_id, owner, FileSpec(copy, name, model, predictor, threshold, tuple(dict.fromkeys(formats)), options), folder)
        with self._cond:
            try:
                self._check_room(owner)  # again: another submit may have taken the last place meanwhile
            except FileRefused:
                shutil.rmtree(folder, ignore_errors=True)
                raise
            self._jobs[job.id] = job
            self._waiting.append(job)
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="tagger-file-jobs", daemon=True)
                self._thread.start()
            self._cond.notify_all()
        return job

    # -- reading ---------------------------------------------------------------------------------
    def latest(self, owner: str | None) -> FileJob | None:
        """The owner's newest job (an anonymous caller has none to come back to)."""
        if owner is None:
            return None
        with self._cond:
            return next((j for j in reversed(self._jobs.values()) if j.owner == owner), None)

    def get(self, job_id: str, owner: str | None) -> FileJob:
        with self._cond:
            job = self._jobs.get(job_id)
        if job is None or job.owner != owner:
            raise FileRefused(f"No file job {job_id!r} of yours.")
        return job

    def position(self, job: FileJob) -> int | None:
        with self._cond:
            return next((i + 1 for i, j in enumerate(self._waiting) if j is job), None)

    def snapshot(self, job: FileJob) -> dict[str, Any]:
        """A job as plain values: state, phase, progress 0..1, ETA, counts, outputs, the first results."""
        result = job.result
        return {
            "id": job.id, "state": job.state, "phase": job.phase, "position": self.position(job), "waiting": len(self._waiting),
            "progress": job.progress, "eta_s": job.eta(), "file": job.spec.input_name, "model": job.spec.model,
            "threshold": job.spec.threshold, "formats": list(job.spec.formats), "documents_total": job.total_docs,
            "words_total": job.total_words, "documents_done": job.docs_done, "error": job.error, "version": job.version,
            "seconds": (job.ended or time.time()) - job.created if job.state != QUEUED else None,
            "outputs": {fmt: str(p) for fmt, p in job.outputs.items()},
            "summary": None if result is None else {k: v for k, v in result.__dict__.items() if k != "first"},
            "first": [] if result is None else result.first,
        }

    # -- cancelling --------------------------------------------------------------------------------
    def cancel(self, owner: str | None, job_id: str = "") -> str:
        """Stop the owner's job (``job_id`` empty: their newest): a waiting one at once, a running one
        before its next model call (about a second). Nothing of it is kept."""
        job = self.get(job_id, owner) if job_id else self.latest(owner)
        if job is None or job.finished:
            return "No file of yours is being tagged."
        job.stop.set()
        with self._cond:
            if job in self._waiting:
                self._waiting.remove(job)
                self._end(job, CANCELLED)
                shutil.rmtree(job.folder, ignore_errors=True)
        return "Cancelling…" if job.state == RUNNING else "Cancelled; no output was written."

    # -- the worker thread -------------------------------------------------------------------------
    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._waiting and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                job = self._waiting.popleft()
                job.state, job.phase = RUNNING, "checking"
                job.version += 1
            self._run(job)

    def _end(self, job: FileJob, state: str, error: str = "") -> None:
        job.state, job.error, job.ended = state, error, time.time()
        job.version += 1
        job.ended_event.set()

    def _run(self, job: FileJob) -> None:
        spec = job.spec
        outputs = {fmt: job.folder / "out" / n for fmt, n in output_names(spec.input_name, spec.formats).items()}
        state, error = FAILED, "Internal error; see the server log."
        try:
            job.total_docs, job.total_words = count_documents(spec.input_path, spec.options, self.limits, spec.input_name)
            job.phase, job.clock = "tagging", (time.monotonic(), 0.0)
            job.version += 1
            job.result = tag_to_outputs(spec.predictor, spec.input_path, outputs, threshold=spec.threshold, options=spec.options,
                                        limits=self.limits, name=spec.input_name, on_progress=job.advance, should_stop=job.stop.is_set)
            state, error = DONE, ""
        except TaggingCancelled:
            state, error = CANCELLED, ""
        except TaggerError as err:
            error = str(err)
        except Exception:  # the job fails, the app goes on; the log has the traceback
            log.exception("file job %s failed", job.id)
        shutil.rmtree(job.folder / "in", ignore_errors=True)
        if state == DONE:
            job.outputs = outputs
        else:
            shutil.rmtree(job.folder, ignore_errors=True)  # no output of a failed or cancelled job is left
        with self._cond:
            self._end(job, state, error)
        self._prune()

    def _prune(self) -> None:
        with self._cond:
            finished = [j for j in self._jobs.values() if j.finished]
            for job in finished[:-KEEP_FINISHED]:
                shutil.rmtree(job.folder, ignore_errors=True)
                del self._jobs[job.id]

    def close(self) -> None:
        """Stop the running job (its outputs go) and remove every file of every job."""
        with self._cond:
            self._closed = True
            for job in list(self._jobs.values()):
                job.stop.set()
            while self._waiting:  # a caller following one of them hears it ended
                self._end(self._waiting.popleft(), CANCELLED, "the app is shutting down")
            self._cond.notify_all()
        thread = self._thread
        if thread is not None:
            thread.join(timeout=5)
        shutil.rmtree(self.root, ignore_errors=True)
