"""The app as a newcomer meets it, in a real browser (Playwright + Debian's Chromium), on a desktop
(1366x768) and a phone (390x844): every tab filled with a result, and nothing scrolls sideways;
private runs stay private in a second browser, and Delete asks before anything is removed.
The Tag tab's "Tag a file" panel is walked too, with a file tagged. Screenshots of every tab go to test-artifacts/ (bench/screenshots.py makes the README's)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from support import (
    ARTIFACTS,
    BROWSER_MARKS,
    DEV_FILE,
    SIDEWAYS,
    TABLES,
    TIMEOUT_MS,
    TRAIN_FILE,
    app_model_dirs,
    open_tab,
    running_app,
    wait_for,
)

pytestmark = BROWSER_MARKS
VIEWPORTS = {"desktop": (1366, 768), "phone": (390, 844)}


@contextmanager
def page_at(browser: Any, url: str, width: int, height: int) -> Iterator[Any]:
    """A page of a fresh browser context (its own local storage: another owner) at the given size."""
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": width, "height": height})
    try:
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(url)
        page.locator("#tag-text textarea").wait_for()
        yield page
    finally:
        context.close()


def assert_no_sideways_scroll(page: Any, where: str, elements: bool) -> None:
    page.wait_for_timeout(300)  # one frame for the last layout
    offenders = page.evaluate(SIDEWAYS, elements)
    page.screenshot(path=str(ARTIFACTS / f"trust-{where}.png"), full_page=True)
    assert offenders == [], f"{where} scrolls sideways: {offenders}"
    tables = page.evaluate(TABLES)
    assert tables == [], f"{where}: tables out of line or squeezed: {tables}"


def text_in(page: Any, elem_id: str, text: str) -> None:
    """Wait until the element shows ``text`` (read as the user sees it)."""
    page.wait_for_function("([id, text]) => (document.getElementById(id)?.innerText || '').includes(text)", arg=[elem_id, text])


def pick(page: Any, elem_id: str, value: str) -> None:
    box = page.locator(f"#{elem_id} input")
    box.click()
    box.fill(value)
    page.keyboard.press("Enter")


def train_tiny(page: Any) -> None:
    """The Fine-tune tab: upload the fixture, the tiny base with settings it learns with, start, wait."""
    page.locator("#train-file input[type=file]").set_input_files(str(TRAIN_FILE))
    page.locator("#data-report").get_by_text("sentences").first.wait_for()
    page.locator("#data-preview .token").first.wait_for()
    lines = [line for line in page.locator("#data-preview .textfield").inner_text().split("\n") if line.strip()]
    assert len(lines) >= 2, f"the preview's sentences run together: {lines}"  # a sentence a line (innerText follows the layout)
    pick(page, "train-base", "tiny")
    page.get_by_label("linear", exact=True).check()
    for label, value in (("Epochs", 8), ("Batch size", 8)):
        box = page.get_by_label(f"number input for {label}")
        box.fill(str(value))
        box.press("Enter")
    lr = page.get_by_label("Learning rate")
    lr.fill("0.005")
    lr.press("Enter")
    page.locator("#train-button").click()
    page.locator("#train-status").get_by_text("Done in").wait_for()


def tag_a_file(page: Any, tmp: Path) -> None:
    """The Tag tab's "Tag a file" panel: upload a small JSONL file, tag it, wait for the downloads."""
    source = tmp / "notes.jsonl"
    source.write_text("".join(f'{{"id": {i}, "text": "Angela Merkel visited Paris on Tuesday, said John Smith of Reuters."}}\n'
                              for i in range(3)), encoding="utf-8")
    page.locator("#tagfile").get_by_text("Tag a file").first.click()
    page.locator("#tagfile-upload input[type=file]").set_input_files(str(source))
    page.locator("#tagfile-info").get_by_text("notes.jsonl").wait_for()
    page.locator("#tagfile-start").click()
    page.locator("#tagfile-status").get_by_text("Tagged").wait_for()
    page.locator("#tagfile-downloads a[download]").nth(4).wait_for()


@pytest.fixture(scope="module")
def app(tiny_base: Path, tiny_tagger: Path, tmp_path_factory: pytest.TempPathFactory):
    yield from running_app(tmp_path_factory, "trust-app", tiny_base, tiny_tagger)


@pytest.fixture(scope="module")
def private_app(tiny_base: Path, tiny_tagger: Path, tmp_path_factory: pytest.TempPathFactory):
    yield from running_app(tmp_path_factory, "trust-private-app", tiny_base, tiny_tagger, private_runs=True)


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_app_trust_browser_every_tab_with_results_fits_the_screen(app, browser, viewport: str, tmp_path: Path) -> None:
    width, height = VIEWPORTS[viewport]
    desktop = viewport == "desktop"  # on a phone, a wide table may scroll inside itself; the page never does
    with page_at(browser, app.url, width, height) as page:
        page.get_by_role("button", name="long paragraph").click()  # an example runs when clicked
        page.locator("#tag-info").get_by_text(re.compile(r"\d+ entities")).wait_for()
        assert page.locator("#entities-view .token.highlighted").count() > 5
        assert_no_sideways_scroll(page, f"tag-{viewport}", desktop)

        tag_a_file(page, tmp_path)  # the Tag tab's file panel, with its results and downloads
        assert_no_sideways_scroll(page, f"tag-file-{viewport}", desktop)

        open_tab(page, "Fine-tune")
        train_tiny(page)
        assert "done in" in page.locator("#train-progress").inner_text()
        assert page.locator("#train-new-name input, #train-new-name textarea").first.input_value().startswith("trained-")
        assert_no_sideways_scroll(page, f"train-{viewport}", desktop)

        open_tab(page, "Runs")
        page.wait_for_function("document.querySelector('#runs-table').innerText.includes('trained-')")
        assert_no_sideways_scroll(page, f"runs-{viewport}", desktop)

        open_tab(page, "Evaluate")
        page.locator("#eval-file input[type=file]").set_input_files(str(DEV_FILE))
        pick(page, "eval-model", "tiny")
        page.locator("#eval-button").click()
        page.locator("#eval-summary").get_by_text("with errors").wait_for()
        page.locator("#eval-confusion").get_by_text("Entity level").first.wait_for()
        assert_no_sideways_scroll(page, f"evaluate-{viewport}", desktop)

        open_tab(page, "Correct")
        page.locator("#correct-text textarea").fill("Angela Merkel visited Paris.\n\nJohn lives in Berlin.")
        page.locator("#correct-load").click()
        page.locator("#correct-editor").get_by_text(re.compile(r"\d+ left")).first.wait_for()
        assert_no_sideways_scroll(page, f"correct-{viewport}", desktop)


def test_app_trust_browser_private_runs_stay_private_and_delete_asks_first(private_app, browser) -> None:
    """Private mode: a run trained in one browser is in no list or picker of another browser (each
    negative check waits for the list to be drawn with that browser's own entries first); Delete
    removes nothing until it is confirmed, and Cancel keeps the run."""
    width, height = VIEWPORTS["desktop"]
    with page_at(browser, private_app.url, width, height) as alice, page_at(browser, private_app.url, width, height) as bob:
        open_tab(alice, "Fine-tune")
        train_tiny(alice)
        name = alice.locator("#train-new-name input, #train-new-name textarea").first.input_value()
        assert name.startswith("trained-") and name in private_app.ctx.registry.names(
            next(r.owner for r in private_app.ctx.runs.runs()))

        bob.reload()
        bob.locator("#tag-text textarea").wait_for()
        open_tab(bob, "Runs")
        text_in(bob, "runs-message", "No runs yet")  # the list is drawn, for bob: empty
        assert name not in bob.locator("#runs-table").inner_text()
        for tab, picker in (("Tag", "model-select"), ("Evaluate", "eval-model"), ("Evaluate", "eval-compare"),
                            ("Correct", "correct-model")):
            open_tab(bob, tab)
            bob.locator(f"#{picker} input").click()
            options = bob.get_by_role("option")
            options.first.wait_for()  # the picker has its choices (the default and the tiny models)
            shown = options.all_inner_texts()
            assert "tiny" in shown and name not in shown, (picker, shown)
            bob.keyboard.press("Escape")

        open_tab(alice, "Runs")
        alice.wait_for_function(f"document.querySelector('#runs-table').innerText.includes({name!r})")
        assert not alice.locator("#run-zip").is_visible()  # no empty file box before there is a zip
        alice.locator("#run-download").click()
        alice.locator("#run-zip").get_by_text(".zip").wait_for()
        alice.locator("#run-delete").click()
        alice.locator("#run-confirm").get_by_text("Yes, delete it").wait_for()
        assert "for good" in alice.locator("#runs-message").inner_text()
        assert any(p.startswith("trained-") for p in app_model_dirs(private_app))  # asked, nothing removed yet
        alice.locator("#run-keep").click()
        text_in(alice, "runs-message", "Nothing was deleted")
        assert any(p.startswith("trained-") for p in app_model_dirs(private_app))
        alice.locator("#run-delete").click()
        alice.locator("#run-confirm-delete").click()
        text_in(alice, "runs-message", "Deleted")
        wait_for(lambda: not any(p.startswith("trained-") for p in app_model_dirs(private_app)), 30, what="the run to be removed")
        alice.wait_for_function(f"!document.querySelector('#runs-table').innerText.includes({name!r})")  # and off the list


def test_app_trust_browser_reload_keeps_the_form_and_bad_input_is_said_at_the_input(app, browser) -> None:
    width, height = VIEWPORTS["desktop"]
    with page_at(browser, app.url, width, height) as page:
        page.locator("#tag-text textarea").fill("Angela Merkel visited Paris.")
        page.locator("#tag-button").click()
        page.locator("#tag-info").get_by_text("entities").wait_for()
        page.locator("#tag-text textarea").fill("")
        page.locator("#tag-button").click()
        page.locator("#tag-text").get_by_text("Type or paste some text to tag first.").wait_for()  # at the input
        wait_for(lambda: page.locator("#tag-info").inner_text().strip() == "", 30, what="the old result to go")
        assert page.locator(".error, [data-testid=error]").count() == 0 or not page.locator("#entity-table").get_by_text(
            "Error").count()
        page.locator("#tag-text textarea").fill("Der Präsident und die Kanzlerin sind nicht in Berlin, sagte der Sprecher.")
        page.locator("#tag-button").click()
        page.locator("#tag-info").get_by_text("This text looks German").wait_for()
        page.locator("#tag-clear").click()
        wait_for(lambda: page.locator("#tag-info").inner_text().strip() == "" and
                 page.locator("#tag-text textarea").input_value() == "", 30, what="Clear to clear everything")

        open_tab(page, "Fine-tune")
        page.locator("#train-file input[type=file]").set_input_files(str(TRAIN_FILE))
        page.locator("#data-report").get_by_text("sentences").first.wait_for()
        stored = "() => localStorage.getItem('bert-tagger-train-form')"
        page.wait_for_function(f"({stored})() !== null")  # the upload is remembered (encrypted: compared, not read)
        before = page.evaluate(stored)
        epochs = page.get_by_label("number input for Epochs")
        epochs.fill("7")
        epochs.press("Enter")
        page.wait_for_function(f"({stored})() !== {before!r}")  # the browser kept the new setting
        page.reload()
        page.locator("#tag-text textarea").wait_for()
        open_tab(page, "Fine-tune")
        text_in(page, "data-report", "app_train.conll")  # the upload came back, with its report
        wait_for(lambda: page.get_by_label("number input for Epochs").input_value() == "7", 30, what="the epochs setting")
