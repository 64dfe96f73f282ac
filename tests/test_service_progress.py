"""demo.service.progress: training events -> status text, plot points, progress (pure)."""

from __future__ import annotations

import pytest

from demo.service.progress import CANCELLED, STARTING, TrainView, decode, done_status

pytestmark = pytest.mark.unit


def step(step: int, epoch: float, loss: float, total: int = 100) -> dict:
    return {"kind": "step", "step": step, "total": total, "epoch": epoch, "loss": loss, "elapsed": 12.4}


def test_progress_step_gives_loss_point_and_progress() -> None:
    update = decode(step(25, 0.25, 0.5), epochs=4)
    assert update.loss == (0.25, 0.5) and update.f1 is None
    assert update.progress == 0.25 and not update.redraw
    assert update.status == "Epoch 1/4 · step 25/100 · loss 0.5000 · 12 s"


def test_progress_last_step_never_shows_an_epoch_past_the_end() -> None:
    assert decode(step(100, 4.0, 0.1), epochs=4).status.startswith("Epoch 4/4 ")


def test_progress_epoch_gives_f1_point_and_redraw() -> None:
    update = decode({"kind": "epoch", "step": 50, "total": 100, "epoch": 2.0, "dev": {"f1": 77.777}}, epochs=4)
    assert update.f1 == (2.0, 77.777) and update.redraw and update.progress == 0.5
    assert update.status == "Epoch 2/4 done · dev F1 77.8"


@pytest.mark.parametrize(
    "event",
    [{"kind": "step", "step": 1, "total": 10, "epoch": 0.1, "loss": None, "elapsed": 1}, {"kind": "epoch", "dev": None},
     {"kind": "result"}, {"kind": "cancelled"}, {"kind": "something-new"}, {}],
)
def test_progress_ignored_kinds_change_nothing(event: dict) -> None:
    update = decode(event, epochs=2)
    assert (update.status, update.loss, update.f1, update.progress, update.redraw) == (None, None, None, None, False)


def test_progress_missing_total_does_not_divide_by_zero() -> None:
    assert decode({"kind": "start", "total": 0, "message": "m"}, 1).status == "Training: 1 epochs, 1 steps (m)"
    assert decode({"kind": "saving"}, 1).progress == 0.99


def test_progress_view_folds_a_whole_run() -> None:
    view = TrainView(epochs=2)
    assert view.status == STARTING and view.loss == [] and view.f1 == []
    assert view.apply([{"kind": "ready"}]) is True
    assert view.apply([step(10, 0.2, 1.0, 50), step(20, 0.4, 0.8, 50)]) is False  # steps alone: throttled by the caller
    assert view.apply([{"kind": "epoch", "step": 25, "total": 50, "epoch": 1.0, "dev": {"f1": 60.0}}]) is True
    assert view.apply([step(50, 2.0, 0.3, 50), {"kind": "epoch", "step": 50, "total": 50, "epoch": 2.0, "dev": {"f1": 70.0}},
                       {"kind": "saving"}]) is True
    assert view.status == "Saving the best epoch…" and view.progress == 0.99
    assert view.loss == [(0.2, 1.0), (0.4, 0.8), (2.0, 0.3)]
    assert view.f1 == [(1.0, 60.0), (2.0, 70.0)]


def test_progress_done_status_escapes_the_model_name() -> None:
    text = done_status({"seconds": 9.6, "best_epoch": 2, "dev": {"f1": 88.0}}, "a_*b*")
    assert text.startswith("✓ Done in 10 s: best epoch 2, dev F1 **88.0**") and "a\\_\\*b\\*" in text
    assert "no model was written" in CANCELLED
