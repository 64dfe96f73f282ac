"""Private runs, handler by handler (no server): every handler that takes a model or a job refuses or
hides another owner's run or job, for another owner's token and for an anonymous caller, and serves
the owner (the same call, the owner's token: so a refusal is about the caller, not a broken call).

The matrix: /tag, /evaluate (``model``, ``compare_with``), the evaluate-run path (``evaluate_run``),
/download, /rename, /delete, /models, the pickers (Tag, Runs, Evaluate), /status, /cancel (and the
Fine-tune tab's Cancel button and timer)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import gradio as gr
import pytest
from support import DEV_FILE, add_run, app_settings

from demo.service.app_context import AppContext
from demo.service.owners import token_owner
from demo.ui import evaluate_tab, runs_tab, tag_tab, train_tab

pytestmark = pytest.mark.app
ALICE, BOB = "a" * 32, "b" * 32
OTHERS = {"another owner": BOB, "anonymous": ""}
REQUEST = SimpleNamespace(username=None)
RUN, JOB = "trained-alice", "trained-alice-job"
TEXT = "Angela Merkel visited Paris today."


def no_progress(*_args: Any, **_kwargs: Any) -> None:
    return None



@pytest.fixture
def ctx(tiny_base: Path, tiny_tagger: Path, tmp_path: Path):
    """Private runs; Alice has a run and a job (one an earlier app was running: reported to her as
    failed), Bob has a run."""
    settings = app_settings(tmp_path, tiny_base, tiny_tagger, prewarm_worker=False, private_runs=True)
    root = settings.app_models_dir
    root.mkdir(parents=True)
    add_run(root, tiny_tagger, RUN, ALICE)
    add_run(root, tiny_tagger, "trained-bob", BOB)
    (root / JOB).mkdir()
    (root / JOB / "job.json").write_text(json.dumps({"id": JOB, "owner": token_owner(ALICE), "created": 2000.0,
                                                      "config": {"epochs": 2}}))
    context = AppContext(settings)
    yield context
    context.close()


def choices(dropdown: Any) -> list[str]:
    return [c[0] if isinstance(c, tuple | list) else c for c in dropdown.choices]


# Each call takes the caller's token; called with Alice's it must work, with anyone else's be refused.
REFUSED: dict[str, tuple[Callable[[AppContext, str], Any], str]] = {
    "/tag": (lambda ctx, t: tag_tab.tag(ctx, TEXT, RUN, t, REQUEST), "Unknown model"),
    "/evaluate model": (lambda ctx, t: evaluate_tab.evaluate(ctx, str(DEV_FILE), RUN, None, -1, t, REQUEST, no_progress),
                        "Unknown model"),
    "/evaluate compare_with": (lambda ctx, t: evaluate_tab.evaluate(ctx, str(DEV_FILE), "tiny", RUN, -1, t, REQUEST, no_progress),
                               "Unknown model"),
    "evaluate_run": (lambda ctx, t: evaluate_tab.evaluate_run(ctx, RUN, t, REQUEST, no_progress), "Unknown model"),
    "/download": (lambda ctx, t: runs_tab.download(ctx, RUN, t, REQUEST), "Unknown model"),
    "/rename": (lambda ctx, t: runs_tab.rename(ctx, RUN, "mine now", t, REQUEST), "Unknown model"),
    "/delete": (lambda ctx, t: runs_tab.delete(ctx, RUN, t, REQUEST), "Unknown model"),
    "/status": (lambda ctx, t: train_tab.status(ctx, JOB, t, REQUEST), "among yours"),
    "/cancel": (lambda ctx, t: train_tab.cancel(ctx, JOB, t, REQUEST), "among yours"),
}


@pytest.mark.parametrize("endpoint", list(REFUSED))
def test_ui_privacy_handlers_refuse_another_owners_run_or_job(ctx: AppContext, endpoint: str) -> None:
    call, message = REFUSED[endpoint]
    for who, token in OTHERS.items():
        with pytest.raises(gr.Error, match=message) as err:
            call(ctx, token)
        assert str(err.value).count(RUN) <= 1, f"{endpoint} ({who}) names the run among the choices: {err.value}"
    assert (ctx.runs.root / RUN).is_dir()  # refused, and untouched
    assert call(ctx, ALICE) is not None  # the owner is served


def test_ui_privacy_lists_and_pickers_hide_another_owners_run(ctx: AppContext) -> None:
    def seen(token: str) -> dict[str, set[str]]:
        table, picker, *_ = runs_tab.list_runs(ctx, None, token, REQUEST)
        model, compare = evaluate_tab.refresh_models(ctx, None, None, token, REQUEST)
        return {
            "/models": {m["name"] for m in runs_tab.models(ctx, token, REQUEST)},
            "Runs table": set(table["name"]),
            "Runs picker": set(choices(picker)),
            "Tag picker": set(choices(tag_tab.refresh_models(ctx, None, token, REQUEST)[0])),
            "Evaluate model picker": set(choices(model)),
            "Evaluate compare picker": set(choices(compare)),
        }

    for where, names in seen(ALICE).items():
        assert RUN in names and "trained-bob" not in names, (where, names)
    for where, names in seen(BOB).items():
        assert "trained-bob" in names and RUN not in names, (where, names)  # drawn with Bob's own run, not Alice's
    for where, names in seen("").items():
        assert not {RUN, "trained-bob"} & names, (where, names)
    assert "tiny" in seen("")["Tag picker"]  # the --models-dir folders are everyone's


def test_ui_privacy_jobs_show_only_to_their_owner(ctx: AppContext) -> None:
    for token in OTHERS.values():
        with pytest.raises(gr.Error, match="You have no training job"):
            train_tab.status(ctx, "", token, REQUEST)  # "my latest job" is nobody else's
        assert all(isinstance(v, type(gr.skip())) for v in train_tab.poll(ctx, token, None, REQUEST)[:6])  # the timer draws nothing
        assert train_tab.cancel_mine(ctx, token, REQUEST) == "No training job of yours is running."
    state = train_tab.status(ctx, JOB, ALICE, REQUEST)
    assert state["state"] == "failed" and "restarted during this job" in state["status"]
    assert train_tab.poll(ctx, ALICE, None, REQUEST)[0].startswith("Training failed")
