"""The Evaluate tab in a real browser (Playwright + Debian's Chromium): scores, the confusion heat
map, the error browser (gold and predicted lines, filters, sorting, pages), the comparison of two
models that tag differently, and the dev-set analysis that opens from a finished training run.
Screenshots go to test-artifacts/.

What the filters, the sorting and the comparison must show is computed first by the tab's own
handlers on the server (the same model and file, so the same result); the page is then waited on
until it shows exactly that, never for a fixed time."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from learning import tiny_tagger_paris_org
from support import ARTIFACTS, BROWSER_MARKS, DEV_FILE, TRAIN_FILE, browser_page, running_app, wait_for

pytestmark = BROWSER_MARKS


@pytest.fixture(scope="module")
def app(tiny_base: Path, tiny_tagger: Path, tmp_path_factory: pytest.TempPathFactory):
    for running in running_app(tmp_path_factory, "evaluate-browser-app", tiny_base, tiny_tagger, default_model=None):
        shutil.copytree(tiny_tagger_paris_org(tmp_path_factory, tiny_base), running.models_dir / "tiny-org")  # disagrees with tiny
        yield running


@pytest.fixture
def page(app, browser):
    with browser_page(browser, app.url, height=1200) as pg:
        pg.get_by_role("tab", name="Evaluate").click()
        pg.locator("#eval-button").wait_for()
        yield pg


def visible_slots(page) -> int:
    return sum(page.locator(f"#eval-slot-{i}").is_visible() for i in range(5))


def shown_sentences(page) -> list[int]:
    """The sentence numbers (#n) of the error browser's visible slots, in order."""
    headers = [page.locator(f"#eval-slot-{i}-header").inner_text() for i in range(5) if page.locator(f"#eval-slot-{i}").is_visible()]
    return [int(m.group(1)) for h in headers if (m := re.search(r"#(\d+)", h))]


def expected(app, kinds: list[str], sort: str, compare_with: str | None = None) -> tuple[str, list[int], tuple]:
    """What the page must show, from the tab's handlers on the server: (page line, sentence numbers of
    the first page, the evaluation's outputs)."""
    from demo.ui import evaluate_tab

    out = evaluate_tab.evaluate(app.ctx, str(DEV_FILE), "tiny", compare_with, -1, progress=lambda *a, **k: None)
    _, line, *slots = evaluate_tab.browse(app.ctx, out[-1], [], kinds, sort, 1)
    numbers = [int(re.search(r"#(\d+)", slots[i * 4 + 1]).group(1)) for i in range(5) if slots[i * 4].visible]
    return line, numbers, out


def wait_for_sentences(page, numbers: list[int], what: str) -> None:
    try:
        wait_for(lambda: shown_sentences(page) == numbers, 120, what=what)
    except AssertionError as e:
        raise AssertionError(f"{e}: the page shows {shown_sentences(page)}, expected {numbers}") from None


def test_app_evaluate_browser_error_browser(app, page) -> None:
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

    # filter by error kind: the sentences with a spurious entity, and only those (some, not all)
    _, unfiltered, _ = expected(app, [], "errors")
    assert shown_sentences(page) == unfiltered
    line_spurious, spurious, _ = expected(app, ["spurious"], "errors")
    assert 0 < len(spurious) < n_errors, spurious  # a filter that narrows the list without emptying it
    page.locator("#eval-kinds").get_by_label("spurious").check()
    wait_for_sentences(page, spurious, "the sentences with a spurious entity")
    assert line.inner_text().startswith(f"{len(spurious)} of {n_errors}") and line_spurious.startswith(f"{len(spurious)} of")
    shown = [page.locator(f"#eval-slot-{i}-header").inner_text() for i in range(len(spurious))]
    assert all("spurious" in h for h in shown)
    page.locator("#eval-kinds").get_by_label("spurious").uncheck()
    wait_for_sentences(page, unfiltered, "the unfiltered list")
    # sort by lowest confidence: another order than by errors, with the headers' confidences ascending
    _, by_confidence, _ = expected(app, [], "confidence")
    assert by_confidence != unfiltered and len(by_confidence) == min(5, n_errors)
    page.locator("#eval-sort").get_by_label("lowest confidence").check()
    wait_for_sentences(page, by_confidence, "the sentences sorted by lowest confidence")
    confs = [float(re.search(r"lowest confidence ([\d.]+)", page.locator(f"#eval-slot-{i}-header").inner_text()).group(1))
             for i in range(5) if page.locator(f"#eval-slot-{i}").is_visible()]
    assert len(confs) == len(by_confidence) and confs == sorted(confs)
    # pages
    if n_errors > 5:
        page.locator("#eval-next").click()
        page.locator("#eval-page-line").get_by_text("page 2 of").wait_for()
        assert visible_slots(page) == min(5, n_errors - 5)
    page.screenshot(path=str(ARTIFACTS / "app-evaluate-browser.png"), full_page=True)


def test_app_evaluate_browser_compares_two_models(app, page) -> None:
    """"Compare with" a model trained differently: the page shows the sentences the two tag differently."""
    *_, out = expected(app, [], "errors", compare_with="tiny-org")
    summary, table = out[4], out[6]
    assert len(table) > 0 and f"{len(table)} sentences tagged differently" in summary, summary
    page.locator("#eval-file input[type=file]").set_input_files(str(DEV_FILE))
    assert not page.locator("#eval-compare-summary").is_visible()  # the comparison stays closed until there is one
    page.locator("#eval-compare input").click()
    page.get_by_role("option", name="tiny-org", exact=True).click()
    page.locator("#eval-button").click()
    page.locator("#eval-compare-summary").get_by_text("tagged differently").wait_for()
    shown = page.locator("#eval-compare-summary").inner_text()
    counts = re.search(r"(\d+) sentences? tagged differently; A has fewer errors in (\d+), B in (\d+), the same number in (\d+)", shown)
    assert counts, shown
    want = re.search(r"(\d+) sentences? tagged differently; A has fewer errors in (\d+), B in (\d+), the same number in (\d+)", summary)
    assert counts.groups() == want.groups() and int(counts.group(1)) > 0
    grid = page.locator("#eval-disagreements [role=grid]")  # its aria-rowcount counts the header row too
    wait_for(lambda: grid.get_attribute("aria-rowcount") == str(len(table) + 1), 60, what=f"{len(table)} rows in the disagreement table")
    text = page.locator("#eval-disagreements").inner_text()
    assert all(sentence in text for sentence in table["sentence"]), text
    page.screenshot(path=str(ARTIFACTS / "app-evaluate-compare.png"), full_page=True)


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
