"""The Evaluate tab in a real browser (Playwright + Debian's Chromium): scores, the confusion heat
map, the error browser (gold and predicted lines, filters, sorting, pages), and the dev-set analysis
that opens from a finished training run. Screenshots go to test-artifacts/."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from support import ARTIFACTS, BROWSER_MARKS, DEV_FILE, TRAIN_FILE, browser_page, running_app

pytestmark = BROWSER_MARKS


@pytest.fixture(scope="module")
def app(tiny_base: Path, tiny_tagger: Path, tmp_path_factory: pytest.TempPathFactory):
    yield from running_app(tmp_path_factory, "evaluate-browser-app", tiny_base, tiny_tagger, default_model=None)


@pytest.fixture
def page(app, browser):
    with browser_page(browser, app.url, height=1200) as pg:
        pg.get_by_role("tab", name="Evaluate").click()
        pg.locator("#eval-button").wait_for()
        yield pg


def visible_slots(page) -> int:
    return sum(page.locator(f"#eval-slot-{i}").is_visible() for i in range(5))


def test_app_evaluate_browser_error_browser(page) -> None:
    page.locator("#eval-file input[type=file]").set_input_files(str(DEV_FILE))
    page.locator("#eval-button").click()
    page.locator("#eval-summary").get_by_text(re.compile(r"sentences? with errors")).wait_for()
    summary = page.locator("#eval-summary").inner_text()
    n_errors = int(re.search(r"([\d,]+) sentences? with errors", summary).group(1))
    assert "app_dev.conll" in summary and n_errors > 0  # a 2-sentence model on unseen sentences errs
    assert "micro avg" in page.locator("#eval-scores").inner_text()
    assert "total" in page.locator("#eval-errors").inner_text()
    cells = page.locator("#eval-confusion td")
    assert cells.count() > 0 and "rgba(" in (cells.first.get_attribute("style") or "")
    line = page.locator("#eval-page-line")
    line.get_by_text(re.compile(r"sentences? with errors match(es)?")).wait_for()
    assert line.inner_text().startswith(f"{n_errors} of {n_errors}")
    page.locator("#eval-slot-0").wait_for()
    assert visible_slots(page) == min(5, n_errors)
    header = page.locator("#eval-slot-0-header").inner_text()
    assert re.search(r"#\d+ \(line \d+\) · \d+ errors? · lowest confidence", header)
    # two highlighted lines, gold above predicted, over the same words
    gold = page.locator("#eval-slot-0-gold").inner_text()
    pred = page.locator("#eval-slot-0-pred").inner_text()
    words = header.split(" — ")[0]
    assert gold and pred and words
    assert page.locator("#eval-slot-0-gold .token, #eval-slot-0-pred .token").count() > 0
    assert "✗" in page.locator("#eval-slot-0").inner_text()  # the entities in error are marked
    page.screenshot(path=str(ARTIFACTS / "app-evaluate.png"), full_page=True)

    # filter by error kind: only sentences with that kind remain
    page.locator("#eval-kinds").get_by_label("missed").check()
    page.wait_for_timeout(1500)
    shown = [page.locator(f"#eval-slot-{i}-header").inner_text() for i in range(5) if page.locator(f"#eval-slot-{i}").is_visible()]
    assert all("missed" in h for h in shown)
    page.locator("#eval-kinds").get_by_label("missed").uncheck()
    # sort by lowest confidence: the headers' confidences ascend
    page.locator("#eval-sort").get_by_label("lowest confidence").check()
    page.wait_for_timeout(1500)
    confs = [float(re.search(r"lowest confidence ([\d.]+)", page.locator(f"#eval-slot-{i}-header").inner_text()).group(1))
             for i in range(5) if page.locator(f"#eval-slot-{i}").is_visible()]
    assert confs == sorted(confs)
    # pages
    if n_errors > 5:
        page.locator("#eval-next").click()
        page.locator("#eval-page-line").get_by_text("page 2 of").wait_for()
        assert visible_slots(page) == min(5, n_errors - 5)
    page.screenshot(path=str(ARTIFACTS / "app-evaluate-browser.png"), full_page=True)


def test_app_evaluate_browser_dev_analysis_opens_from_a_run(app, page) -> None:
    page.get_by_role("tab", name="Fine-tune").click()
    page.locator("#train-file input[type=file]").set_input_files(str(TRAIN_FILE))
    page.locator("#data-report").get_by_text("40 sentences").wait_for()
    for label, value in (("Epochs", 2), ("Batch size", 8)):
        box = page.get_by_label(f"number input for {label}")
        box.fill(str(value))
        box.press("Enter")
    page.get_by_role("radio", name="linear").check()
    assert not page.locator("#eval-run-button").is_visible()
    page.locator("#train-button").click()
    page.locator("#train-status").get_by_text("Done in").wait_for()
    page.locator("#eval-run-button").click()
    page.locator("#eval-summary").get_by_text(re.compile(r"the dev set of trained-")).wait_for()
    assert page.get_by_role("tab", name="Evaluate", selected=True).is_visible()
    assert "micro avg" in page.locator("#eval-scores").inner_text()
    name = re.search(r"the dev set of (trained-[\w-]+)", page.locator("#eval-summary").inner_text()).group(1)
    page.screenshot(path=str(ARTIFACTS / "app-evaluate-run.png"), full_page=True)
    # the same from the Runs tab, for the picked run
    page.get_by_role("tab", name="Runs").click()
    page.locator("#run-evaluate").wait_for()
    page.wait_for_function("n => document.querySelector('#run-select input').value === n", arg=name)  # the new run is picked
    page.locator("#run-evaluate").click()
    page.get_by_role("tab", name="Evaluate", selected=True).wait_for()  # the tab switch is its own (unqueued) event
    page.locator("#eval-summary").get_by_text(f"the dev set of {name}").wait_for()
