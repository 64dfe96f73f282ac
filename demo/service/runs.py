"""The app's trained models on disk ("runs"): listed at start-up, renamed, deleted, zipped,
capped per owner. One folder per run under the models folder, named by the app
(``trained-YYYYmmdd-HHMMSS[-N]``), never from user text; the display name lives in the
metadata and can be renamed.

A run folder is *complete* when ``tagger.save_tagger`` has swapped it into place: that save
writes everything into a temporary sibling, ``tagger.json`` last, and renames it into place in
one step, so a folder holding ``config.json``, ``tagger.json`` and weights is a whole model.
While a job is queued or training, its folder holds only ``job.json`` (the job's record and
its uploads): a run in the making. At start-up, with the folder's lock held (no other app uses
it), incomplete runs and the temporary folders of interrupted saves are removed; only direct
children of the models folder are ever removed, never a symbolic link, never anything outside.

Each complete run's ``tagger.json`` holds a ``run`` record: ``id``, ``name``, ``owner``,
``created``, and the uploaded files' names (besides config, data report, per-epoch history,
scores, timings, device and precision, which ``tagger.train`` writes).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import re
import shutil
import threading
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tagger.errors import TaggerError
from tagger.meta import META_FILE
from tagger.record import ModelRecord, RunInfo

from .atomic import write_json_atomic
from .owners import can_change, can_see

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; one app per models folder is assumed
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

JOB_FILE = "job.json"  # a run in the making: the queued/running job's record
LOCK_FILE = ".lock"
STALE_S = 3600  # without the lock (another app shares the folder) only leftovers older than this go
MAX_NAME = 64
_TEMP = re.compile(r"^\..+\.(tmp|old)-")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


class RunError(TaggerError, ValueError):
    """A run that is not there for this caller, or a change that is not allowed."""


def is_complete(folder: Path) -> bool:
    """A whole saved model: config, ``tagger.json`` (written last) and weights."""
    if folder.is_symlink() or not folder.is_dir():
        return False
    return (folder / "config.json").is_file() and (folder / META_FILE).is_file() and any(folder.glob("*.safetensors"))


def check_name(name: Any) -> str:
    """A display name as the user typed it, trimmed; RunError if empty, too long or with
    control characters.

    >>> check_name("  NER on filings v2 ")
    'NER on filings v2'
    >>> check_name("")
    Traceback (most recent call last):
    ...
    demo.service.runs.RunError: a name must have 1 to 64 characters
    """
    text = name.strip() if isinstance(name, str) else ""
    if not 1 <= len(text) <= MAX_NAME:
        raise RunError(f"a name must have 1 to {MAX_NAME} characters")
    if _CONTROL.search(text):
        raise RunError("a name cannot hold control characters (tabs, line breaks)")
    return text


def safe_file_name(name: str, fallback: str) -> str:
    """A display name turned into a file name (zip downloads).

    >>> safe_file_name("NER: filings/v2", "trained-1")
    'NER-filings-v2'
    >>> safe_file_name("../..", "trained-1")
    'trained-1'
    """
    text = _SAFE.sub("-", name).strip("-.")
    return text[:MAX_NAME] if text else fallback


@dataclass(frozen=True)
class Run:
    """A complete run on disk: its folder and its typed ``tagger.json``."""

    id: str  # the folder name
    path: Path
    record: ModelRecord

    @property
    def info(self) -> RunInfo:
        return self.record.run or RunInfo(id=self.id)

    @property
    def name(self) -> str:
        return self.info.display_name

    @property
    def owner(self) -> str | None:
        return self.info.owner

    @property
    def created(self) -> float:
        return self.info.created if self.info.created is not None else self.path.stat().st_mtime


class RunStore:
    """The runs in one models folder. ``private``: each owner sees only their runs, and
    ``max_per_owner`` counts per owner (else across all runs, as one shared list)."""

    def __init__(self, root: Path, max_per_owner: int = 5, private: bool = False, max_total: int = 200) -> None:
        self.root = Path(root)
        self.max_per_owner = max_per_owner
        self.max_total = max_total
        self.private = private
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._cache: dict[str, tuple[int, Run]] = {}
        self._lock_fd: int | None = None
        self.exclusive = self._take_lock()
        self.interrupted: list[dict[str, Any]] = []  # jobs an earlier app was running when it stopped
        self.cleanup()

    # -- start-up -------------------------------------------------------------------------------
    def _take_lock(self) -> bool:
        """Hold ``.lock`` for the app's lifetime; False if another live app holds it."""
        if fcntl is None:
            return True
        fd = os.open(self.root / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            log.warning("another app uses %s: only leftovers older than %d s are cleaned up", self.root, STALE_S)
            return False
        self._lock_fd = fd
        return True

    def close(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # releases the lock
            self._lock_fd = None

    def _mine(self, path: Path) -> bool:
        """A direct child of the models folder, not a link: the only things ever removed."""
        return not path.is_symlink() and path.parent.resolve() == self.root.resolve()

    def cleanup(self) -> list[str]:
        """Remove incomplete runs and temporary folders of interrupted saves; returns their names.
        Folders that are neither runs nor runs in the making are left alone."""
        removed = []
        now = time.time()
        for path in sorted(self.root.iterdir()):
            if not self._mine(path) or not path.is_dir():
                continue
            stale = self.exclusive or now - path.stat().st_mtime > STALE_S
            if _TEMP.match(path.name):
                if stale:
                    shutil.rmtree(path, ignore_errors=True)
                    removed.append(path.name)
                continue
            if path.name.startswith(".") or is_complete(path):
                if is_complete(path) and self.exclusive:
                    for tmp in path.glob(f".{META_FILE}.tmp-*"):  # an interrupted rename
                        tmp.unlink(missing_ok=True)
                continue
            job_file = path / JOB_FILE
            ours = job_file.is_file() or (path / "config.json").is_file() or (path / META_FILE).is_file()
            if not ours or not self.exclusive:
                continue  # not ours, or maybe another app's job in progress
            if job_file.is_file():
                try:
                    self.interrupted.append(json.loads(job_file.read_text(encoding="utf-8")))
                except (OSError, ValueError):
                    pass
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path.name)
        if removed:
            log.info("removed %d incomplete run(s) or leftovers in %s: %s", len(removed), self.root, ", ".join(removed))
        return removed

    # -- runs in the making -------------------------------------------------------------------
    def reserve(self, record: dict[str, Any], uploads: dict[str, str | None]) -> tuple[str, Path, dict[str, str | None]]:
        """Create the folder of a new run holding ``job.json`` (``record`` plus its id) and copies
        of the uploaded files (Gradio may clean its upload cache before a queued job starts).
        Returns (run id, folder, {role: copied file or None})."""
        stamp = time.strftime("%Y%m%d-%H%M%S")
        with self._lock:
            n = 1
            while True:
                run_id = f"trained-{stamp}" + (f"-{n}" if n > 1 else "")
                path = self.root / run_id
                try:
                    path.mkdir()
                    break
                except FileExistsError:
                    n += 1
        copies: dict[str, str | None] = {}
        try:
            for role, src in uploads.items():
                if not src:
                    copies[role] = None
                    continue
                (path / role).mkdir()
                dest = path / role / safe_file_name(Path(src).name, "upload")  # the data report names the file
                shutil.copyfile(src, dest)
                copies[role] = str(dest)
            write_json_atomic(path / JOB_FILE, {**record, "id": run_id})
        except BaseException:
            shutil.rmtree(path, ignore_errors=True)
            raise
        return run_id, path, copies

    def discard(self, run_id: str) -> bool:
        """Remove a run in the making (cancelled, failed) and its save's temporary folders.
        A complete run is kept (a cancel that came after the save)."""
        path = self.root / run_id
        if not self._mine(path) or _TEMP.match(run_id) or run_id.startswith("."):
            return False
        with self._lock:
            if is_complete(path):
                return False
            for tmp in self.root.glob(f".{run_id}.*"):
                if self._mine(tmp) and _TEMP.match(tmp.name):
                    shutil.rmtree(tmp, ignore_errors=True)
            shutil.rmtree(path, ignore_errors=True)
        return True

    # -- complete runs --------------------------------------------------------------------------
    def runs(self) -> list[Run]:
        """Every complete run, newest first (re-read when its ``tagger.json`` changed)."""
        out: list[Run] = []
        seen = set()
        for path in self.root.iterdir():
            if path.name.startswith(".") or not is_complete(path) or not self._mine(path):
                continue
            meta_file = path / META_FILE
            try:
                stamp = meta_file.stat().st_mtime_ns
                with self._lock:
                    cached = self._cache.get(path.name)
                if cached is None or cached[0] != stamp:
                    meta = json.loads(meta_file.read_text(encoding="utf-8"))
                    if not isinstance(meta, dict):
                        continue
                    cached = (stamp, Run(path.name, path, ModelRecord.from_json(meta)))
                    with self._lock:
                        self._cache[path.name] = cached
            except (OSError, ValueError):
                continue  # removed meanwhile, or unreadable: not listed
            seen.add(path.name)
            out.append(cached[1])
        with self._lock:
            for gone in set(self._cache) - seen:
                del self._cache[gone]
        out.sort(key=lambda r: (r.created, r.id), reverse=True)
        return out

    def visible(self, owner: str | None) -> list[Run]:
        return [r for r in self.runs() if can_see(r.owner, owner, self.private)]

    def find(self, key: Any, owner: str | None) -> Run:
        """A run this caller may see, by display name or folder id."""
        if isinstance(key, str) and key:
            runs = self.visible(owner)
            for run in runs:
                if run.name == key:
                    return run
            for run in runs:
                if run.id == key:
                    return run
        raise RunError(f"No run named {str(key)[:80]!r} among yours.")

    def _changeable(self, key: Any, owner: str | None, what: str) -> Run:
        run = self.find(key, owner)
        if not can_change(run.owner, owner, self.private):
            raise RunError(f"Only the owner of {run.name!r} can {what} it.")
        return run

    def rename(self, key: Any, new_name: Any, owner: str | None, taken: frozenset[str] | set[str] = frozenset()) -> Run:
        """Set a run's display name (``taken``: names the caller sees elsewhere, e.g. ``default``)."""
        name = check_name(new_name)
        run = self._changeable(key, owner, "rename")
        others = {r.name for r in self.visible(owner) if r.id != run.id} | set(taken)
        if name in others:
            raise RunError(f"The name {name!r} is taken; choose another.")
        with self._lock:  # read again: the record on disk, not the cached one, is changed
            record = ModelRecord.from_json(json.loads((run.path / META_FILE).read_text(encoding="utf-8")))
            info = record.run or RunInfo(id=run.id)
            write_json_atomic(run.path / META_FILE, record.replace(run=dataclasses.replace(info, name=name)).to_json())
        return self.find(run.id, owner)

    def delete(self, key: Any, owner: str | None) -> Run:
        run = self._changeable(key, owner, "delete")
        self._remove(run)
        return run

    def _remove(self, run: Run) -> None:
        if not self._mine(run.path):
            return
        with self._lock:
            # rename first: a reader never sees a half-deleted run as complete
            gone = self.root / f".{run.id}.old-{os.getpid()}-{time.monotonic_ns()}"
            try:
                os.replace(run.path, gone)
            except OSError:
                gone = run.path
            shutil.rmtree(gone, ignore_errors=True)
            self._cache.pop(run.id, None)

    def enforce_cap(self, owner: str | None, keep: str | None = None) -> list[Run]:
        """Remove the oldest runs beyond ``max_per_owner`` (this owner's with private runs, all
        runs when shared) and beyond ``max_total`` overall; never ``keep``."""
        runs = self.runs()
        mine = [r for r in runs if r.owner == owner] if self.private else runs
        doomed = [r for r in mine[self.max_per_owner :] if r.id != keep]
        rest = [r for r in runs if r not in doomed]
        doomed += [r for r in rest[self.max_total :] if r.id != keep]
        for run in doomed:
            self._remove(run)
        return doomed

    def zip(self, run: Run, dest_dir: Path) -> Path:
        """The run as ``<name>.zip`` holding ``<name>/...`` (a Hugging Face folder; weights stored,
        not deflated). The copy of ``tagger.json`` in it leaves out the owner."""
        name = safe_file_name(run.name, run.id)
        target = Path(dest_dir) / f"{name}.zip"
        tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
        with zipfile.ZipFile(tmp, "w") as zf:
            for f in sorted(run.path.rglob("*")):
                if not f.is_file() or f.name.startswith("."):
                    continue
                arc = f"{name}/{f.relative_to(run.path)}"
                if f.name == META_FILE and f.parent == run.path:
                    meta = json.loads(f.read_text(encoding="utf-8"))
                    if isinstance(meta.get("run"), dict):  # the zip is shared further: no owner in it
                        meta["run"] = {k: v for k, v in meta["run"].items() if k != "owner"}
                    zf.writestr(arc, json.dumps(meta, indent=2), compress_type=zipfile.ZIP_DEFLATED)
                    continue
                method = zipfile.ZIP_STORED if f.suffix == ".safetensors" else zipfile.ZIP_DEFLATED
                zf.write(f, arc, compress_type=method)
        os.replace(tmp, target)
        return target
