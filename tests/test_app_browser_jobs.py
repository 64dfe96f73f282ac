"""Jobs that outlive the page, and private runs, in a real browser (Playwright + Debian's Chromium).

- A job started in a page that is then closed runs on; a new page (same browser, so the same
  owner token in local storage) shows its progress, and at the end the model is in the Runs view
  and in the Tag tab.
- With private runs, a second browser context (another visitor, with a run of their own) sees neither
  the first one's job nor its model in any picker (Tag, Runs, Evaluate model and compare), and the API
  refuses that model by name. Every "not shown" is read only once the page has drawn what that visitor
  does see (their own job, their own run): a page that has not drawn yet shows nothing either.

The page's status text is only read once the job's state (server side) says what it must show: the
training worker is paused (SIGSTOP) as soon as it reports steps, so a fast machine cannot finish the
job before the page looks, and a slow one cannot miss it; it is resumed (SIGCONT) to finish.
"""

from __future__ import annotations

import os
import re
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from support import ARTIFACTS, BROWSER_MARKS, TIMEOUT_MS, TRAIN_FILE, set_number, start_app, wait_for

pytestmark = BROWSER_MARKS


def open_page(context, url: str):
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(url)
    page.locator("#tag-text textarea").wait_for()
    return page


def start_training(page, train_file: Path, epochs: int, batch: int) -> None:
    page.get_by_role("tab", name="Fine-tune").click()
    page.locator("#train-file input[type=file]").set_input_files(str(train_file))
    page.locator("#data-report").get_by_text(re.compile(r"\d+ sentences")).first.wait_for()
    set_number(page, "Epochs", epochs)
    set_number(page, "Batch size", batch)
    set_number(page, "Learning rate", 0.005)
    page.get_by_role("radio", name="linear").check()
    page.locator("#train-button").click()


def wait_for_status(page, pattern: str, timeout: float = 120) -> str:
    """The Fine-tune tab's status text once it matches ``pattern``; on timeout, fails with the text it shows."""
    status = page.locator("#train-status")

    def shown() -> str | None:
        text = status.inner_text()
        return text if re.search(pattern, text) else None

    try:
        return wait_for(shown, timeout, what=pattern)
    except AssertionError as e:
        raise AssertionError(f"{e}; the status shows {status.inner_text()!r}") from None


@contextmanager
def paused_job(app) -> Iterator:
    """The app's one job, once its worker has reported training steps, with the worker stopped
    (SIGSTOP) for the body of the ``with``; resumed after, also on failure."""
    job = wait_for(lambda: next(iter(app.ctx.jobs.active_jobs()), None), 120, what="the job to be queued")
    wait_for(lambda: job.finished or job.view.progress > 0, 180, what="the job's first steps")
    assert not job.finished, f"the job ended ({job.state}) before it could be paused: {job.error}"
    pid = job.worker.process.pid
    os.kill(pid, signal.SIGSTOP)
    try:
        yield job
    finally:
        os.kill(pid, signal.SIGCONT)


def picker_choices(page, tab: str, picker: str) -> list[str]:
    """The choices of a dropdown (``picker``: its elem id) on ``tab`` (the selected one lines up with
    a ✓ mark, dropped here)."""
    page.get_by_role("tab", name=tab).click()
    page.locator(f"{picker} input").click()
    options = page.get_by_role("option").all_inner_texts()
    page.keyboard.press("Escape")
    return [o.replace("✓", "").strip() for o in options]


def tag_choices(page) -> list[str]:
    """The Tag tab's model choices."""
    return picker_choices(page, "Tag", "#model-select")


PICKERS = {"Tag": ("Tag", "#model-select"), "Runs": ("Runs", "#run-select"), "Evaluate model": ("Evaluate", "#eval-model"),
           "Evaluate compare": ("Evaluate", "#eval-compare")}


def pickers_once_drawn(page, own: str) -> dict[str, list[str]]:
    """Every model picker's choices, each read once it lists ``own`` (a run of this page's visitor):
    the page has drawn this visitor's models there, so what it lacks, it does not offer."""
    seen = {}
    for where, (tab, picker) in PICKERS.items():
        seen[where] = wait_for(lambda tab=tab, picker=picker: (c := picker_choices(page, tab, picker)) and own in c and c, 60,
                               what=f"{own} in the {where} picker")
    return seen


def test_app_browser_job_survives_closing_the_page(browser, tiny_base: Path, tiny_tagger: Path, tmp_path: Path) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    app = start_app(tmp_path / "app", tiny_base, tiny_tagger)
    big = tmp_path / "big.conll"  # 400 sentences (a name and a size to find in the Runs table)
    big.write_text("\n".join([TRAIN_FILE.read_text(encoding="utf-8")] * 10), encoding="utf-8")
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    try:
        page = open_page(context, app.url)
        headers = wait_for(lambda: [h.strip() for h in page.locator("#entity-table th").all_inner_texts() if h.strip()], 60,
                           what="the entity table's headers")  # rendered a moment after the page
        assert headers[:3] == ["entity", "type", "confidence"] and "1" not in headers, headers  # no placeholder headers
        start_training(page, big, epochs=3, batch=4)
        with paused_job(app) as job:
            wait_for_status(page, r"Epoch \d+/3 ")  # "· step n/300" or "done · dev F1": where the worker paused
            page.close()  # the tab is gone; the job is not
            assert not job.finished and job.worker.alive()

            again = open_page(context, app.url)  # reload / a new tab / the next day: the same browser
            again.get_by_role("tab", name="Fine-tune").click()
            status = wait_for_status(again, r"Epoch \d+/3 ")
            assert "CPU" in status  # the device is in the status line
            # and what the job runs (the form it was started from is gone)
            assert f"Job {job.id}: big.conll (10% held out as dev)" in status and "3 epochs" in status, status
            again.screenshot(path=str(ARTIFACTS / "app-train-reconnected.png"), full_page=True)
        again.locator("#train-status").get_by_text("Done in").wait_for()
        assert job.state == "done"
        assert "micro avg" in again.locator("#scores-table").inner_text()

        again.get_by_role("tab", name="Runs").click()
        wait_for(lambda: job.id in again.locator("#runs-table").inner_text(), 30, what="the run in the Runs table")
        assert "big.conll (400 sentences)" in again.locator("#runs-table").inner_text()
        again.screenshot(path=str(ARTIFACTS / "app-runs.png"), full_page=True)
        assert job.id in tag_choices(again)
        assert again.locator("#model-select input").input_value() == job.id  # the new model is the Tag tab's choice
    finally:
        context.close()
        app.close()


def test_app_browser_private_runs_are_private(browser, tiny_base: Path, tiny_tagger: Path, tmp_path: Path) -> None:
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    app = start_app(tmp_path / "app", tiny_base, tiny_tagger, private_runs=True)
    first = browser.new_context(viewport={"width": 1280, "height": 1000})
    second = browser.new_context(viewport={"width": 1280, "height": 1000})
    try:
        # the other visitor first trains a short job: their own job and run are what their page draws
        other = open_page(second, app.url)
        start_training(other, TRAIN_FILE, epochs=1, batch=8)
        theirs = re.search(r"The model (\S+) is now selectable", wait_for_status(other, "Done in", 300)).group(1)

        page = open_page(first, app.url)
        # 400 sentences, 300 steps: long enough that the worker is stopped mid-run (40 sentences
        # x 8 epochs could end between the first progress and the SIGSTOP on a fast machine)
        long = tmp_path / "long.conll"
        long.write_text("\n".join([TRAIN_FILE.read_text(encoding="utf-8")] * 10), encoding="utf-8")
        start_training(page, long, epochs=3, batch=4)
        with paused_job(app) as job:  # running while the other visitor looks
            assert job.id != theirs
            wait_for_status(page, r"Epoch \d+/3 ")
            other.reload()
            other.locator("#tag-text textarea").wait_for()
            other.get_by_role("tab", name="Fine-tune").click()
            shown = wait_for_status(other, "Done in")  # the page has drawn their own (finished) job...
            assert theirs in shown and job.id not in shown and "Epoch" not in shown  # ...and not the running one
            assert not job.finished

        page.locator("#train-status").get_by_text("Done in").wait_for()
        page.get_by_role("tab", name="Runs").click()
        wait_for(lambda: job.id in page.locator("#runs-table").inner_text(), 30, what="the run in the Runs table")
        page.reload()  # the Evaluate tab's pickers list the runs there were when the page was drawn (or ↻ was pressed)
        page.locator("#tag-text textarea").wait_for()
        for where, choices in pickers_once_drawn(page, job.id).items():
            assert theirs not in choices, (where, choices)  # nor does the first visitor see the other's run

        other.reload()
        other.locator("#tag-text textarea").wait_for()
        for where, choices in pickers_once_drawn(other, theirs).items():
            assert job.id not in choices, (where, choices)
        other.get_by_role("tab", name="Runs").click()
        wait_for(lambda: theirs in other.locator("#runs-table").inner_text(), 30, what="their run in their Runs table")
        assert job.id not in other.locator("#runs-table").inner_text()
        other.get_by_role("tab", name="Fine-tune").click()
        shown = wait_for_status(other, "Done in")
        assert theirs in shown and job.id not in shown
        other.screenshot(path=str(ARTIFACTS / "app-private-other-visitor.png"), full_page=True)

        with pytest.raises(AppError, match=f"Unknown model '{job.id}'"):  # the API, without the owner's token
            Client(app.url, verbose=False).predict("Angela Merkel visited Paris.", job.id, api_name="/tag")
    finally:
        first.close()
        second.close()
        app.close()
