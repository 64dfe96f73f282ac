"""The web app in a real browser: Playwright (sync API) driving Debian's Chromium.

Skips when /usr/bin/chromium is absent (``apt-get install chromium``; Playwright cannot download
browsers here). Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from learning import assert_learned
from support import ARTIFACTS, BROWSER_MARKS, TRAIN_FILE, browser_page, running_app, set_number, wait_for

pytestmark = BROWSER_MARKS


@pytest.fixture(scope="module")
def app(tiny_base: Path, tiny_tagger: Path, tmp_path_factory: pytest.TempPathFactory):
    yield from running_app(tmp_path_factory, "browser-app", tiny_base, tiny_tagger)


@pytest.fixture
def page(app, browser):
    with browser_page(browser, app.url) as pg:
        pg.locator("#tag-text textarea").wait_for()
        yield pg


def tag(page, text: str) -> None:
    page.locator("#tag-text textarea").fill(text)
    page.locator("#tag-button").click()
    page.locator("#tag-info").get_by_text(re.compile(r"\d+ words")).first.wait_for()


def test_app_browser_tag_highlights_entities(page) -> None:
    tag(page, "Angela Merkel visited Paris today.")
    highlighted = page.locator("#entities-view .token.highlighted")
    assert highlighted.all_inner_texts() == ["Angela Merkel", "Paris"]
    legend = page.locator('#entities-view [data-testid="highlighted-text:category-legend"]').inner_text()
    assert "PER" in legend and "LOC" in legend
    assert "Angela Merkel" in page.locator("#entity-table").inner_text()
    page.screenshot(path=str(ARTIFACTS / "app-tag.png"), full_page=True)
    # the switch shows the raw per-word tags instead
    page.get_by_label("Show raw per-word tags").check()
    words = page.locator("#words-view")
    words.wait_for()
    assert "B-PER" in words.inner_text() and "I-PER" in words.inner_text()
    assert not page.locator("#entities-view").is_visible()


def test_app_browser_script_text_is_shown_not_run(page) -> None:
    payload = "<script>window.__xss=1</script><img src=x onerror=\"window.__xss=2\"> Angela Merkel visited Paris."
    tag(page, payload)
    assert page.evaluate("window.__xss") is None
    shown = page.locator("#entities-view").inner_text()
    assert "<script>window.__xss=1</script>" in shown and '<img src=x onerror="window.__xss=2">' in shown
    assert page.locator("#entities-view img").count() == 0
    page.screenshot(path=str(ARTIFACTS / "app-xss.png"), full_page=True)


def test_app_browser_train_shows_progress_then_scores_and_cancel_works(app, page, tmp_path: Path) -> None:
    page.get_by_role("tab", name="Fine-tune").click()
    page.locator("#train-file input[type=file]").set_input_files(str(TRAIN_FILE))
    page.locator("#data-report").get_by_text("40 sentences").wait_for()
    assert "IOB1" in page.locator("#data-report").inner_text()
    assert page.locator("#label-column").is_visible()  # 4 columns: the label column is a choice
    set_number(page, "Epochs", 8)
    set_number(page, "Batch size", 8)
    set_number(page, "Learning rate", 0.005)
    page.get_by_role("radio", name="linear").check()

    page.locator("#train-button").click()
    page.locator("#train-status p").filter(has_text=re.compile(r"Epoch \d+/8|Done in")).first.wait_for()  # live progress (a fast job may already be done)
    page.screenshot(path=str(ARTIFACTS / "app-train-progress.png"), full_page=True)
    page.locator("#train-status").get_by_text("Done in").wait_for()
    scores = page.locator("#scores-table").inner_text()
    assert "micro avg" in scores and "PER" in scores
    shown_f1 = re.search(r"dev F1 (\d+\.\d)", page.locator("#train-status").inner_text()).group(1)
    assert_learned(shown_f1, "the Fine-tune tab's status line")  # the page shows a model that learned
    name_box = page.locator("#train-new-name textarea, #train-new-name input").first  # the finished run's name, editable
    wait_for(lambda: name_box.input_value() in app.ctx.registry.names(), 30, what="the new model's name")
    name = name_box.input_value()
    assert name.startswith("trained-")
    assert ".zip" in page.locator("#model-zip").inner_text()
    page.screenshot(path=str(ARTIFACTS / "app-train-done.png"), full_page=True)

    # a second, far longer job (8,000 steps: no machine ends it before the click): cancel it while it runs
    big = tmp_path / "big.conll"
    big.write_text("\n".join([TRAIN_FILE.read_text(encoding="utf-8")] * 10), encoding="utf-8")
    page.locator("#train-file input[type=file]").set_input_files(str(big))
    page.locator("#data-report").get_by_text("400 sentences").wait_for()
    set_number(page, "Epochs", 20)
    set_number(page, "Batch size", 1)
    page.locator("#train-button").click()
    page.locator("#train-status p").filter(has_text=re.compile(r"Epoch \d+/20")).first.wait_for()
    job = wait_for(lambda: app.ctx.jobs.active_jobs(), 30, what="the running job")[0]
    page.locator("#cancel-button").click()
    page.locator("#train-status").get_by_text("Training cancelled").wait_for()
    wait_for(lambda: not job.worker.alive(), 30, what="the worker to stop")
    page.screenshot(path=str(ARTIFACTS / "app-train-cancelled.png"), full_page=True)

    # the first model is selectable in the Tag tab
    page.get_by_role("tab", name="Tag").click()
    assert name in app.ctx.registry.names()
