"""The Correct tab in a real browser (Playwright + Debian's Chromium, 1366x768): three texts corrected
with the mouse and with the keyboard, the dataset found again after a reload, exported and read back
with the project's readers, and invisible to another browser (private runs). Every wait is on a
condition (an element or a text appearing). Screenshots go to test-artifacts/."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support import ARTIFACTS, BROWSER_MARKS, TIMEOUT_MS, running_app

from tagger.data import read_file
from tagger.schemes import iob2_spans

pytestmark = [*BROWSER_MARKS, pytest.mark.app]
TEXTS = ["Angela Merkel visited Paris today.", "John lives in Berlin now.", "Nothing much happened here."]
DATASET = "browser-fixes"
VIEWPORT = {"width": 1366, "height": 768}


@pytest.fixture(scope="module")
def app(tiny_base: Path, tiny_tagger: Path, tmp_path_factory: pytest.TempPathFactory):
    yield from running_app(tmp_path_factory, "correct-browser", tiny_base, tiny_tagger, default_model=None, private_runs=True)


def new_page(browser, url: str):
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(url)
    page.get_by_role("tab", name="Correct").click()
    page.locator("#correct-summary").get_by_text("Dataset").wait_for()  # the page-load work is done (owner, datasets)
    return context, page


# where the characters [start, end) of the text on screen are: a real mouse drag selects them
RECT = """([start, end]) => {
  const pieces = [...document.querySelectorAll('#correct-editor .cx-text .cx-t')];
  const point = (off) => { for (const t of pieces) { const s = +t.dataset.s;
    if (off >= s && off <= s + t.textContent.length) return [t.firstChild, off - s]; } };
  const range = document.createRange();
  range.setStart(...point(start)); range.setEnd(...point(end));
  const rects = range.getClientRects(), first = rects[0], last = rects[rects.length - 1];
  return [first.left + 1, first.top + first.height / 2, last.right - 1, last.top + last.height / 2];
}"""


def drag_select(page, text: str, word: str, cut: int = 0) -> None:
    """Select ``word`` of the text on screen with the mouse (``cut`` characters short of its end)."""
    start = text.index(word)
    x1, y1, x2, y2 = page.evaluate(RECT, [start, start + len(word) - cut])
    page.mouse.move(x1, y1)
    page.mouse.down()
    page.mouse.move(x2, y2, steps=6)
    page.mouse.up()
    page.locator(".cx-hint").get_by_text("Selected").wait_for()


def note(page, text: str) -> None:
    page.locator("#correct-editor .cx-note").get_by_text(text).wait_for()


def entities(page) -> list[tuple[str, str]]:
    marks = page.locator("#correct-editor mark.cx-ent")
    return [(m.locator(".cx-t").inner_text(), m.get_attribute("data-label")) for m in marks.all()]


def mark(page, word: str):
    return page.locator("#correct-editor mark.cx-ent").filter(has=page.locator(".cx-t", has_text=word))


def correct_with_the_mouse(page) -> None:
    assert entities(page) == [("Angela Merkel", "PER"), ("Paris", "LOC")]  # the tiny model's suggestions
    drag_select(page, TEXTS[0], "today", cut=1)  # "toda": snapped to the word
    page.locator(".cx-new").fill("DATE")
    page.locator(".cx-newbtn").click()
    note(page, "added 'today' as DATE")
    mark(page, "Paris").click()
    page.locator(".cx-label[data-label='PER']").click()
    note(page, "'Paris': LOC -> PER")
    mark(page, "Angela Merkel").click()
    page.screenshot(path=str(ARTIFACTS / "correct-editing.png"))
    page.locator(".cx-remove").click()
    note(page, "removed 'Angela Merkel' (PER)")
    page.locator(".cx-act[data-op='undo']").click()
    note(page, "undid the last edit")
    assert entities(page) == [("Angela Merkel", "PER"), ("Paris", "PER"), ("today", "DATE")]
    page.locator(".cx-act[data-op='accept']").click()
    note(page, "accepted")


def correct_with_the_keyboard(page) -> None:
    page.locator(".cx-meta").get_by_text("Text 2 of 3").wait_for()
    assert entities(page) == [("John", "PER"), ("Berlin", "LOC")]
    labels = page.locator(".cx-label").all_inner_texts()
    assert [t.split()[-1] for t in labels] == ["LOC", "PER", "DATE"]
    drag_select(page, TEXTS[1], "now")
    page.keyboard.press("3")
    note(page, "added 'now' as DATE")
    mark(page, "Berlin").click()
    page.keyboard.press("2")
    note(page, "'Berlin': LOC -> PER")
    mark(page, "John").click()
    page.keyboard.press("Delete")
    note(page, "removed 'John' (PER)")
    page.keyboard.press("Control+z")
    note(page, "undid the last edit")
    # typing in a text box fires no shortcut
    page.locator(".cx-new").click()
    page.keyboard.type("xas")
    assert page.locator(".cx-new").input_value() == "xas" and "0 of 3 done" not in page.locator(".cx-count").inner_text()
    page.locator(".cx-new").fill("")
    page.locator(".cx-meta").click()  # out of the box
    assert "1 of 3 done" in page.locator(".cx-count").inner_text()
    page.keyboard.press("a")
    note(page, "accepted")
    page.locator(".cx-meta").get_by_text("Text 3 of 3").wait_for()
    drag_select(page, TEXTS[2], "here")
    page.keyboard.press("1")
    note(page, "added 'here' as LOC")
    page.keyboard.press("Enter")
    page.locator("#correct-editor .cx-empty").get_by_text("All 3 texts done").wait_for()


def fetch(page, fmt: str, tmp: Path) -> Path:
    """Download the dataset as ``fmt`` with the Download button; the file as the browser gets it."""
    page.locator("#correct-format input").click()
    page.get_by_role("option", name="CoNLL" if fmt == "conll" else "span JSONL").click()
    page.locator("#correct-download").click()
    link = page.locator(f"#correct-export a[href*='.{fmt}']").first
    link.wait_for()
    target = tmp / f"export.{fmt}"
    target.write_bytes(page.request.get(link.get_attribute("href")).body())
    return target


def spans_of(sentences) -> list[tuple[str, str]]:
    return [("".join(s.words[sp.start:sp.end]), sp.label) for s in sentences for sp in iob2_spans(s.tags)]


def test_app_correct_browser_corrects_keeps_exports_and_hides_from_others(app, browser, tmp_path: Path) -> None:
    context, page = new_page(browser, app.url)
    try:
        dataset = page.locator("#correct-dataset input")
        dataset.fill(DATASET)
        dataset.press("Enter")
        page.locator("#correct-summary").get_by_text(f"{DATASET} is new").wait_for()
        page.locator("#correct-text textarea").fill("\n\n".join(TEXTS))
        page.locator("#correct-load").click()
        page.locator("#correct-editor .cx-text").wait_for()
        page.screenshot(path=str(ARTIFACTS / "correct-loaded.png"))
        correct_with_the_mouse(page)
        correct_with_the_keyboard(page)
        page.locator("#correct-summary").get_by_text("3 texts (3 accepted, 0 rejected)").wait_for()
        page.screenshot(path=str(ARTIFACTS / "correct-done.png"), full_page=True)

        # a reload finds the dataset with its three corrections
        page.reload()
        page.get_by_role("tab", name="Correct").click()
        page.locator("#correct-summary").get_by_text(f"{DATASET}: 3 texts (3 accepted, 0 rejected)").wait_for()
        assert dataset.input_value() == DATASET
        page.screenshot(path=str(ARTIFACTS / "correct-reloaded.png"))
        saved_file = next((app.ctx.runs.root / ".corrections").glob(f"*/{DATASET}.jsonl"))
        saved = [json.loads(line) for line in saved_file.read_text(encoding="utf-8").splitlines()]
        assert [r["text"] for r in saved] == TEXTS and {r["answer"] for r in saved} == {"accept"}
        expected = [(r["text"][s["start"]:s["end"]].replace(" ", ""), s["label"]) for r in saved for s in r["spans"]]
        assert {("AngelaMerkel", "PER"), ("Paris", "PER"), ("today", "DATE"), ("John", "PER"), ("Berlin", "PER"), ("now", "DATE"),
                ("here", "LOC")} <= set(expected)

        # the exports read back with the project's readers to what was saved
        from_jsonl, from_conll = read_file(fetch(page, "jsonl", tmp_path)), read_file(fetch(page, "conll", tmp_path))
        assert spans_of(from_jsonl.sentences) == expected == spans_of(from_conll.sentences)
        assert [s.words for s in from_jsonl.sentences] == [s.words for s in from_conll.sentences]
    finally:
        context.close()

    # another browser (another owner, private runs) sees none of it
    context, page = new_page(browser, app.url)
    try:
        page.locator("#correct-summary").get_by_text("corrections is new").wait_for()
        page.locator("#correct-dataset input").click()
        assert DATASET not in " ".join(page.get_by_role("option").all_inner_texts())
        page.keyboard.press("Escape")
        dataset = page.locator("#correct-dataset input")
        dataset.fill(DATASET)
        dataset.press("Enter")
        page.locator("#correct-summary").get_by_text(f"{DATASET} is new").wait_for()
        page.locator("#correct-download").click()
        page.get_by_text(f"No corrections dataset '{DATASET}' among yours").first.wait_for()
        page.screenshot(path=str(ARTIFACTS / "correct-other-owner.png"))
        page.get_by_role("tab", name="Fine-tune").click()
        page.locator("#train-corrections input").click()
        assert [t.split()[-1] for t in page.get_by_role("option").all_inner_texts()] == ["none"]  # "✓ none": the choice
    finally:
        context.close()
