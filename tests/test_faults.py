"""Fault tolerance of training: cancels, failing callbacks, failing saves, SIGKILL, NaN loss,
out of memory and bad label sets must leave ``out_dir`` either absent, holding the complete
previous model, or holding a complete new one — never a half-written folder.

Everything runs on the tiny random BERT of ``conftest.tiny_base``.

What SIGKILL can leave behind: ``save_tagger`` writes into a temporary sibling
``.<name>.tmp-XXXX`` and renames it into place, so a kill never leaves a partial folder at the
final path. Nothing can clean up after SIGKILL, though: a kill while saving leaves the temporary
folder behind (harmless, never loaded), and a kill in the instant between moving the previous
model aside (``.<name>.old-<pid>``) and renaming the new one into place leaves ``out_dir`` absent
with the previous model still complete in ``.<name>.old-<pid>``
(see ``test_faults_sigkill_between_renames_keeps_old_model_aside``).
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from conftest import REPO

import tagger.train as train_mod
from tagger.config import TrainConfig
from tagger.data import Sentence
from tagger.model import TaggerModel, load_tagger
from tagger.predict import Predictor
from tagger.train import TrainEvent, TrainingCancelled, TrainingError, train

pytestmark = pytest.mark.slow

FIRST = ["Angela", "John", "Maria", "Olaf", "Emma", "Pedro", "Yuki", "Ahmed"]
LAST = ["Merkel", "Smith", "Garcia", "Scholz", "Brown", "Silva", "Tanaka", "Khan"]
CITIES = ["Paris", "Berlin", "Madrid", "Tokyo", "Lagos", "Lima", "Oslo", "Cairo"]
VERBS = ["visited", "left", "likes", "saw", "reached"]
TAILS = [["today", "."], ["."], ["in", "May", "."], ["again", "."]]


def make_sentences(n: int, seed: int = 0) -> list[Sentence]:
    """``n`` synthetic PER/LOC sentences, e.g. ``Olaf Scholz visited Lima today .``."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        words, tags = [rng.choice(FIRST)], ["B-PER"]
        if rng.random() < 0.6:
            words.append(rng.choice(LAST))
            tags.append("I-PER")
        tail = rng.choice(TAILS)
        words += [rng.choice(VERBS), rng.choice(CITIES), *tail]
        tags += ["O", "B-LOC"] + ["O"] * len(tail)
        out.append(Sentence(words, tags))
    return out


def write_conll(path: Path, sentences: list[Sentence]) -> Path:
    path.write_text("\n\n".join("\n".join(f"{w} {t}" for w, t in zip(s.words, s.tags)) for s in sentences) + "\n")
    return path


TRAIN = make_sentences(20)
DEV = make_sentences(6, seed=1)


def config(base: Path, **changes) -> TrainConfig:
    values = {"base": str(base), "head": "linear", "epochs": 2, "lr": 1e-3, "head_lr": 1e-3, "batch_size": 4, "warmup_ratio": 0.0, "max_length": 32}
    values.update(changes)
    return TrainConfig(**values)


def leftovers(out: Path) -> list[str]:
    """Temporary / set-aside siblings that ``save_tagger`` may have left next to ``out``."""
    return sorted(p.name for p in out.parent.glob(f".{out.name}.*"))


def assert_loadable(out: Path) -> None:
    """``out`` is a complete checkpoint: loads, and predicts one label per word."""
    tagger = load_tagger(out)
    assert set(tagger.labels) == {"O", "B-PER", "I-PER", "B-LOC", "I-LOC"}
    pred = Predictor(tagger).tag_words([["John", "visited", "Berlin", "."]])
    assert len(pred[0]) == 4 and all(label in tagger.labels for label, _ in pred[0])


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.fixture(scope="module")
def reference(tiny_base: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One complete run: the model (used as the 'older model' in out_dir), how many times it
    polled ``should_stop``, and its events."""
    calls = [0]
    events: list[TrainEvent] = []

    def count() -> bool:
        calls[0] += 1
        return False

    out = tmp_path_factory.mktemp("faults-ref") / "model"
    train(config(tiny_base), TRAIN, DEV, out, callback=events.append, should_stop=count)
    assert_loadable(out)
    return {"out": out, "calls": calls[0], "events": events}


@pytest.fixture
def target(request: pytest.FixtureRequest, reference: dict, tmp_path: Path) -> tuple[Path, dict[str, bytes] | None]:
    """``out_dir`` to train into: absent, or (param ``True``) holding a copy of the reference model."""
    out = tmp_path / "model"
    if getattr(request, "param", False):
        shutil.copytree(reference["out"], out)
        return out, snapshot(out)
    return out, None


def assert_untouched(out: Path, old: dict[str, bytes] | None) -> None:
    """Nothing was written: ``out`` is absent, or still exactly the older model (and loads)."""
    if old is None:
        assert not out.exists(), f"partial output left at {out}: {sorted(os.listdir(out))}"
    else:
        assert snapshot(out) == old, "the older model in out_dir was modified"
        assert_loadable(out)
    assert leftovers(out) == [], f"temporary folders left behind: {leftovers(out)}"


# --- 1. cancel / failing callback / failing save ------------------------------------------------


def _stop_point(name: str, reference: dict) -> int:
    """The ``should_stop`` call that returns True for each named point of the run."""
    total, epochs = reference["events"][0].total_steps, 2
    per_epoch = total // epochs
    calls = reference["calls"]
    assert calls == 2 + total + epochs + 1  # after build, after features, each step, each epoch end, before saving
    return {
        "before-features": 1,
        "before-first-step": 2,
        "mid-epoch-1": 2 + per_epoch // 2 + 1,
        "before-dev-eval": 2 + per_epoch + 1,
        "mid-epoch-2": 2 + per_epoch + 1 + per_epoch // 2 + 1,
        "before-saving": calls,
    }[name]


@pytest.mark.parametrize("target", [False, True], ids=["empty", "old-model"], indirect=True)
@pytest.mark.parametrize("point", ["before-features", "before-first-step", "mid-epoch-1", "before-dev-eval", "mid-epoch-2", "before-saving"])
def test_faults_cancel_writes_nothing(point: str, target, reference: dict, tiny_base: Path) -> None:
    out, old = target
    stop_at = _stop_point(point, reference)
    calls = [0]

    def stop() -> bool:
        calls[0] += 1
        return calls[0] >= stop_at

    kinds: list[str] = []
    with pytest.raises(TrainingCancelled, match="no model was written"):
        train(config(tiny_base), TRAIN, DEV, out, callback=lambda e: kinds.append(e.kind), should_stop=stop)
    assert calls[0] == stop_at
    assert "saving" not in kinds
    assert_untouched(out, old)


@pytest.mark.parametrize("target", [False, True], ids=["empty", "old-model"], indirect=True)
@pytest.mark.parametrize("kind", ["saving", "done"])
def test_faults_callback_error_leaves_complete_or_nothing(kind: str, target, tiny_base: Path) -> None:
    """A callback that raises on "saving" stops the run before anything is written; one that
    raises on "done" comes after the model was saved, which must then be complete."""
    out, old = target

    def callback(event: TrainEvent) -> None:
        if event.kind == kind:
            raise KeyboardInterrupt(f"user abort on {kind}")

    inode = out.stat().st_ino if out.exists() else None
    with pytest.raises(KeyboardInterrupt):
        train(config(tiny_base), TRAIN, DEV, out, callback=callback)
    if kind == "saving":
        assert_untouched(out, old)
        assert old is None or out.stat().st_ino == inode
    else:
        assert_loadable(out)
        assert out.stat().st_ino != inode  # a new folder was renamed into place
        assert leftovers(out) == []


@pytest.mark.parametrize("target", [False, True], ids=["empty", "old-model"], indirect=True)
@pytest.mark.parametrize("where", ["tokenizer", "final-rename"])
def test_faults_save_error_leaves_old_model(where: str, target, tiny_base: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A save that fails half-way (disk full while writing, rename refused) cleans up its
    temporary folder and puts the older model back."""
    import tagger.model as model_mod

    out, old = target
    if where == "tokenizer":
        def fail(self, *args, **kwargs):
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(_tokenizer_class(tiny_base), "save_pretrained", fail)
    else:
        real_replace = os.replace

        class FailingOs:
            def __getattr__(self, name: str):
                return getattr(os, name)

            def replace(self, src, dst) -> None:
                if ".tmp-" in Path(src).name:
                    raise OSError(13, "Permission denied")
                real_replace(src, dst)

        monkeypatch.setattr(model_mod, "os", FailingOs())
        monkeypatch.setattr(model_mod, "_exchange", lambda a, b: False)  # the two-rename path (non-Linux)
    with pytest.raises(OSError):
        train(config(tiny_base), TRAIN, DEV, out)
    monkeypatch.undo()
    assert_untouched(out, old)


def _tokenizer_class(base: Path) -> type:
    from tagger.model import load_tokenizer

    return type(load_tokenizer(str(base)))


# --- 3. NaN loss, out of memory -------------------------------------------------------------------


@pytest.mark.parametrize("target", [False, True], ids=["empty", "old-model"], indirect=True)
@pytest.mark.parametrize("how", ["nan-loss", "inf-weight"])
def test_faults_nan_loss_is_training_error(how: str, target, tiny_base: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out, old = target
    if how == "nan-loss":
        real = torch.nn.functional.cross_entropy
        monkeypatch.setattr(torch.nn.functional, "cross_entropy", lambda *a, **k: real(*a, **k) * float("nan"))
    else:
        real_build = train_mod.build_tagger

        def build(cfg, labels):
            tagger = real_build(cfg, labels)
            with torch.no_grad():
                tagger.model.hf.classifier.weight[0, 0] = float("inf")
            return tagger

        monkeypatch.setattr(train_mod, "build_tagger", build)
    with pytest.raises(TrainingError, match=r"the loss became nan at step 1; try a lower learning rate"):
        train(config(tiny_base), TRAIN, DEV, out)
    assert_untouched(out, old)


def _oom_when(training: bool) -> Callable:
    real = TaggerModel.forward

    def forward(self, *args, **kwargs):
        if self.training == training:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")
        return real(self, *args, **kwargs)

    return forward


@pytest.mark.parametrize("target", [False, True], ids=["empty", "old-model"], indirect=True)
@pytest.mark.parametrize("phase", ["train-step", "dev-eval"])
def test_faults_out_of_memory_is_training_error(phase: str, target, tiny_base: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out, old = target
    monkeypatch.setattr(TaggerModel, "forward", _oom_when(training=phase == "train-step"))
    with pytest.raises(TrainingError, match=r"out of memory.*max length") as err:
        train(config(tiny_base), TRAIN, DEV, out)
    monkeypatch.undo()
    if phase == "train-step":
        assert "batch size" in str(err.value)
    assert err.value.__cause__ is None and err.value.__suppress_context__  # one clear line, no CUDA traceback
    assert_untouched(out, old)


# --- 4. bad label sets ----------------------------------------------------------------------------


@pytest.fixture
def no_model(monkeypatch: pytest.MonkeyPatch) -> None:
    def build(*args, **kwargs):
        raise AssertionError("a model was built before the label set was checked")

    monkeypatch.setattr(train_mod, "build_tagger", build)


@pytest.mark.parametrize("tag", ["O", "NOUN"])
def test_faults_single_label_fails_before_model(tag: str, no_model, tiny_base: Path, tmp_path: Path) -> None:
    data = [Sentence(s.words, [tag] * len(s.words)) for s in TRAIN]
    with pytest.raises(TrainingError, match="single label"):
        train(config(tiny_base), data, data[:3], tmp_path / "model")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("train_tags", "dev_tags", "missing"), [
    (None, ["B-ORG", "O", "B-PER"], "ORG"),
    (["NOUN", "VERB", "NOUN"], ["NOUN", "ADJ", "VERB"], "ADJ"),
])
def test_faults_dev_label_unseen_in_training(train_tags, dev_tags, missing: str, no_model, tiny_base: Path, tmp_path: Path) -> None:
    data = TRAIN if train_tags is None else [Sentence(["a", "b", "c"], train_tags)] * 4
    dev = [*data[:2], Sentence(["x", "y", "z"], dev_tags)]
    with pytest.raises(TrainingError, match=rf"the dev data has labels the training data lacks: {missing}$"):
        train(config(tiny_base), data, dev, tmp_path / "model")
    assert list(tmp_path.iterdir()) == []


# --- 2. SIGKILL of `python -m tagger train` -------------------------------------------------------

# Runs the same CLI as `python -m tagger`, optionally pausing inside save_tagger at a chosen
# point (after the weights are written / just before the final rename / right after the atomic
# exchange that replaces an older model) so that a kill lands there every time, whatever the load.
WRAPPER = textwrap.dedent("""
    import os, sys, time, runpy
    import tagger.model as m
    pause = os.environ.get("FAULTS_PAUSE", "")
    def hold():
        print("FAULTS-PAUSED", flush=True)
        time.sleep(120)
    if pause == "weights":
        import transformers
        import tagger.bert
        for cls in (transformers.PreTrainedModel, tagger.bert.BertForTokenClassification):
            def save(self, *a, _real=cls.save_pretrained, **k):
                _real(self, *a, **k)
                hold()  # weights written, tokenizer and tagger.json not yet
            cls.save_pretrained = save
    elif pause == "exchange":
        real_exchange = m._exchange
        def exchange(a, b):
            done = real_exchange(a, b)
            hold()  # swapped: the new model is in place, the old one not yet deleted
            return done
        m._exchange = exchange
    elif pause == "rename":
        class PausingOs:
            def __getattr__(self, name):
                return getattr(os, name)
            def replace(self, src, dst):
                if ".tmp-" in os.path.basename(str(src)):
                    hold()
                os.replace(src, dst)
        m.os = PausingOs()
    sys.argv = ["tagger", *sys.argv[1:]]
    runpy.run_module("tagger", run_name="__main__", alter_sys=True)
""")


@pytest.fixture(scope="module")
def cli_train_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_conll(tmp_path_factory.mktemp("faults-cli") / "train.txt", make_sentences(200, seed=2))


def run_and_kill(args: list[str], marker: bytes | None, delay: float = 0.0, pause: str = "", timeout: float = 60.0) -> bytes:
    """Start the CLI, SIGKILL it ``delay`` s after ``marker`` appears in its output (or after
    ``delay`` s from the start when there is no marker); return the output. Fails if it exits first."""
    env = dict(os.environ, PYTHONUNBUFFERED="1", OMP_NUM_THREADS="1", FAULTS_PAUSE=pause)
    cmd = [sys.executable, "-c", WRAPPER, *args] if pause else [sys.executable, "-m", "tagger", *args]
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    buf = bytearray()
    reader = threading.Thread(target=lambda: [buf.extend(chunk) for chunk in iter(lambda: proc.stdout.read1(4096), b"")], daemon=True)
    reader.start()
    deadline = time.monotonic() + timeout
    try:
        while marker is not None and marker not in buf:
            assert proc.poll() is None, f"exited ({proc.returncode}) before {marker!r}:\n{bytes(buf).decode(errors='replace')[-2000:]}"
            assert time.monotonic() < deadline, f"no {marker!r} within {timeout} s"
            time.sleep(0.02)
        time.sleep(delay)
        assert proc.poll() is None, f"exited ({proc.returncode}) before the kill:\n{bytes(buf).decode(errors='replace')[-2000:]}"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)
        reader.join(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    return bytes(buf)


# (marker to wait for, seconds after it, pause point in save_tagger, older model in out_dir).
# Kills are tied to what the process prints rather than to wall-clock delays, so that each lands
# in the intended phase however loaded the machine is (a run is ~8 s here, 5 of them imports).
KILLS = {
    "during-imports": (None, 0.5, "", False),
    "mid-training-old-model": (b"train:", 0.0, "", True),
    "while-writing-weights-old-model": (b"FAULTS-PAUSED", 0.0, "weights", True),
    "before-final-rename": (b"FAULTS-PAUSED", 0.0, "rename", False),
}


@pytest.mark.parametrize("case", list(KILLS))
def test_faults_sigkill_leaves_complete_or_absent(case: str, cli_train_file: Path, reference: dict, tiny_base: Path, tmp_path: Path) -> None:
    marker, delay, pause, with_old = KILLS[case]
    out = tmp_path / "model"
    old = None
    if with_old:
        shutil.copytree(reference["out"], out)
        old = snapshot(out)
    args = ["train", "--train", str(cli_train_file), "--base", str(tiny_base), "--head", "linear", "--epochs", "1",
            "--batch-size", "16", "--max-length", "32", "--lr", "1e-3", "--out", str(out)]
    run_and_kill(args, marker, delay, pause)
    if old is not None:
        assert snapshot(out) == old  # killed before the swap: the older model is untouched
    if out.exists():
        assert_loadable(out)
    # a temp folder may survive the kill (nothing runs after SIGKILL); it is never at the final path
    for name in leftovers(out):
        assert name.startswith(f".{out.name}.tmp-"), name
    if pause:
        assert len(leftovers(out)) == 1  # the kill landed inside save_tagger
        if pause == "rename":  # fully written, just not renamed: still not at the final path
            assert not out.exists()


def test_faults_sigkill_after_swap_leaves_new_model(cli_train_file: Path, reference: dict, tiny_base: Path, tmp_path: Path) -> None:
    """Replacing a model is one atomic exchange (renameat2), so there is no instant without a
    model at out_dir. A kill right after the exchange leaves the new model complete in place and
    the previous one complete in the ``.tmp-`` folder it was swapped into (deleted next)."""
    if not sys.platform.startswith("linux"):
        pytest.skip("renameat2 is Linux-only")
    out = tmp_path / "model"
    shutil.copytree(reference["out"], out)
    old = snapshot(out)
    args = ["train", "--train", str(cli_train_file), "--base", str(tiny_base), "--head", "linear", "--epochs", "1",
            "--batch-size", "16", "--max-length", "32", "--out", str(out)]
    run_and_kill(args, b"FAULTS-PAUSED", 0.0, "exchange")
    assert_loadable(out)
    assert snapshot(out) != old
    aside = [out.parent / n for n in leftovers(out)]
    assert [p.name.split("-")[0] for p in aside] == [".model.tmp"]
    assert snapshot(aside[0]) == old