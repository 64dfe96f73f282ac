"""The Tag tab's "Tag a file" panel in a real browser (Playwright + Debian's Chromium): upload a file and
see its first records, start, see the progress bar move, cancel (nothing is left), start again, and
download every format by clicking it, each read back with the reader of its format."""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path
from typing import Any

import pytest
from support import ARTIFACTS, BROWSER_MARKS, browser_page, running_app, wait_for

pytestmark = [*BROWSER_MARKS, pytest.mark.app]
TEXTS = ["Angela Merkel visited Paris today.", "John lives in Berlin now.", "Angela Merkel lives in Berlin.", "John visited Paris."]
SECONDS_PER_WORD = 0.0005  # the tiny model tags a file in a blink; this slows it to about 2,000 words/s, as the default runs


class Slow:
    """The tiny predictor, at the default model's pace (so that there is a progress bar to see and time to cancel)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def tag_words(self, sentences: Any, docs: Any = None) -> Any:
        time.sleep(SECONDS_PER_WORD * sum(len(s) for s in sentences))
        return self.inner.tag_words(sentences, docs)


@pytest.fixture(scope="module")
def app(tiny_base: Path, tiny_tagger: Path, tmp_path_factory: pytest.TempPathFactory):
    yield from running_app(tmp_path_factory, "tag-file-browser", tiny_base, tiny_tagger)


def pick(page: Any, elem_id: str, value: str) -> None:
    box = page.locator(f"#{elem_id} input")
    box.click()
    box.fill(value)
    page.keyboard.press("Enter")


def choose_model(page: Any, name: str) -> None:
    """Pick the Tag tab's model once the page-load events have set the list (their answer could otherwise
    put the default back after the pick; "networkidle" never comes: the panels' timers poll)."""
    page.locator("#model-summary").get_by_text("labels").first.wait_for()  # the load has drawn the default's card
    for _ in range(5):
        pick(page, "model-select", name)
        page.locator("#model-summary").get_by_text(name).first.wait_for()
        page.wait_for_timeout(700)
        if name in page.locator("#model-summary").inner_text():
            return
    raise AssertionError(f"the model picker did not keep {name!r}")


def read_back(path: Path) -> Any:
    """The file read with its format's reader: (documents or sentences, entities found)."""
    from spacy.tokens import DocBin

    from tagger.data import read_file
    from tagger.words import _spacy_pipeline

    if path.suffix in (".jsonl", ".conll"):
        sentences = read_file(path).sentences
        return len(sentences), sum(t.startswith("B-") for s in sentences for t in s.tags)
    if path.suffix == ".spacy":
        docs = list(DocBin().from_disk(path).get_docs(_spacy_pipeline("en").vocab))
        return len(docs), sum(len(d.ents) for d in docs)
    if path.suffix == ".csv":
        rows = list(csv.DictReader(path.open(encoding="utf-8")))
        return len({r["id"] for r in rows}), len(rows)
    tasks = json.loads(path.read_text(encoding="utf-8"))
    return len(tasks), sum(len(t["predictions"][0]["result"]) for t in tasks)


def test_app_tag_file_browser_progress_cancel_finish_and_every_download(app, browser, tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    source = tmp_path / "news.jsonl"
    source.write_text("".join(json.dumps({"id": f"n{i}", "text": " ".join(TEXTS[(i + k) % 4] for k in range(3))}) + "\n"
                              for i in range(1200)), encoding="utf-8")  # 18,000 words: about 9 s at the slowed pace
    real = app.ctx.registry.predictor
    monkeypatch.setattr(app.ctx.registry, "predictor", lambda *a, **k: Slow(real(*a, **k)))
    with browser_page(browser, app.url) as page:
        page.locator("#tag-text textarea").wait_for()
        choose_model(page, "tiny")
        page.locator("#tagfile").get_by_text("Tag a file").first.click()
        empty = tmp_path / "empty.jsonl"
        empty.write_text("", encoding="utf-8")
        page.locator("#tagfile-upload input[type=file]").set_input_files(str(empty))
        page.locator("#tagfile-info").get_by_text("empty.jsonl: the file is empty").wait_for()  # said at once, under it
        page.locator("#tagfile-start").click()
        page.locator("#tagfile-upload").get_by_text("empty.jsonl: the file is empty").wait_for()  # Start: at the input itself
        assert app.ctx.tagging.files.latest(next(iter(app.ctx.tagging.files._jobs), None)) is None  # no job was started
        page.reload()  # a fresh panel
        page.locator("#tag-text textarea").wait_for()
        choose_model(page, "tiny")
        page.locator("#tagfile").get_by_text("Tag a file").first.click()
        page.locator("#tagfile-upload input[type=file]").set_input_files(str(source))
        page.locator("#tagfile-info").get_by_text("news.jsonl").wait_for()
        page.locator("#tagfile-preview").get_by_text("n4").wait_for()  # the first records, before any tagging
        assert page.locator("#tagfile-field input, #tagfile-field textarea").first.input_value() == "text"  # JSON: its text field

        page.locator("#tagfile-start").click()
        page.wait_for_function("(document.querySelector('#tagfile-progress')?.innerText || '').includes(' of 1,200 documents')")
        page.wait_for_function("Number(document.querySelector('#tagfile-progress progress')?.value) > 0")  # it moves
        job = app.ctx.tagging.files.latest(next(iter({j.owner for j in app.ctx.tagging.files._jobs.values()})))
        page.locator("#tagfile-cancel").click()
        page.locator("#tagfile-status").get_by_text("Cancelled").wait_for()
        assert job.state == "cancelled" and not job.folder.exists()  # nothing of it is left
        wait_for(lambda: page.locator("#tagfile-start").is_enabled(), 30, what="Start to come back")

        monkeypatch.setattr(app.ctx.registry, "predictor", real)  # the second run at the tiny model's own pace
        page.locator("#tagfile-start").click()
        page.locator("#tagfile-status").get_by_text("Tagged").wait_for()
        assert "with tiny" in page.locator("#tagfile-status").inner_text()
        assert "done in" in page.locator("#tagfile-progress").inner_text()
        page.wait_for_function("(document.querySelector('#tagfile-results')?.innerText || '').includes('Angela Merkel · PER')")
        page.screenshot(path=str(ARTIFACTS / "tag-file-done.png"), full_page=True)
        links = page.locator("#tagfile-downloads a[download]")
        links.first.wait_for()
        assert links.count() == 5
        assert page.locator("#tagfile-downloads button[aria-label='Remove this file']").count() == 5  # Gradio draws them...
        assert not page.locator("#tagfile-downloads button[aria-label='Remove this file']").first.is_visible()  # ...not shown
        got = {}
        for i in range(5):
            with page.expect_download() as download:
                links.nth(i).click()
            target = tmp_path / "downloads" / download.value.suggested_filename
            download.value.save_as(target)
            got[target.suffix] = read_back(target)
    assert set(got) == {".jsonl", ".csv", ".conll", ".spacy", ".json"}
    assert got[".jsonl"][0] == got[".conll"][0] == 3600  # read back as training data: the 3 sentences of each document
    assert got[".spacy"][0] == got[".json"][0] == 1200 and got[".csv"][0] <= 1200  # documents; csv: those with an entity
    entities = {suffix: found for suffix, (_, found) in got.items()}
    assert len(set(entities.values())) == 1 and entities[".csv"] > 1200, entities  # the same entities in every format
