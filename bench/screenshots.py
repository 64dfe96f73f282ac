"""Screenshots of every tab of the web app as a user sees it after using it.

Writes, under ``--out`` (default docs/):

- the README pictures at 1280 px wide: screenshot-tag.png (the Tag tab with the "long paragraph"
  example tagged), screenshot-tagfile.png (its "Tag a file" panel after a finished job on a JSONL of
  20 CoNLL-2003 eng.testb documents: preview, progress, results, downloads), screenshot-train.png
  (Fine-tune, after training MiniLM on the first ``--sentences`` sentences of eng.train for
  ``--epochs`` epochs), screenshot-runs.png (that run in the Runs tab), screenshot-evaluate.png (the
  default model on the first 200 sentences of eng.testb) and screenshot-correct.png (the Correct tab
  with the model's suggestions in the editor, two texts accepted);
- the "after" pictures of the trust pass, full page, in the same states, to compare with
  docs/screenshots/before/: screenshots/after/{tag,train,runs,evaluate,correct}-{desktop,phone}.png
  (desktop 1366x768, phone 390x844; the Tag picture includes the finished "Tag a file" panel).

Each state is reached once at 1280 px, then the same page is resized for the desktop and phone
pictures. Without ../shared/data the test fixtures stand in for CoNLL-2003. It starts ``python app.py``
(default model: models/default, base: the packaged MiniLM) on a free 127.0.0.1 port, drives it with
Playwright + Debian's Chromium, and prints, per picture, its size, any error toast on screen and, on the
phone, anything that scrolls sideways.

    python bench/screenshots.py [--sentences 600] [--epochs 3] [--out docs] [--only tag,tagfile,train,runs,evaluate,correct]
"""

from __future__ import annotations

import argparse
import io
import json
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common import CONLL, REPO, running_app  # adds the repo to sys.path
from page_checks import SIDEWAYS, TABLES, open_tab, set_number

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
MAX_PNG_BYTES = 300_000
README_SIZE = (1280, 900)
AFTER_SIZES = {"desktop": (1366, 768), "phone": (390, 844)}
TABS = ("tag", "tagfile", "train", "runs", "evaluate", "correct")
TRAIN_TIMEOUT_MS = 45 * 60_000  # fine-tuning on 2 busy cores: minutes, not seconds
FALLBACK_TEXTS = [  # the Correct tab's texts without ../shared/data
    "Angela Merkel visited Paris on Tuesday, said John Smith of Reuters.",
    "Shares of Siemens rose in Frankfurt after the company raised its forecast.",
    "The United Nations met in New York to discuss the crisis in Ethiopia.",
    "Barcelona beat Real Madrid 2-1 at the Camp Nou on Saturday.",
]
# The top and bottom of an element in page coordinates (bounding_box() is relative to the scrolled viewport)
EXTENT = "(sel) => { const r = document.querySelector(sel).getBoundingClientRect(); return [r.top + scrollY, r.bottom + scrollY]; }"


# ---------------------------------------------------------------------------------- data
def training_file(folder: Path, sentences: int) -> Path:
    """The first ``sentences`` sentences of CoNLL-2003 eng.train (4 columns), else the fixture."""
    src = CONLL / "eng.train"
    if not src.is_file():
        return REPO / "tests" / "fixtures" / "app_train.conll"
    out, n = [], 0
    for line in src.read_text(encoding="utf-8").splitlines():
        out.append(line)
        if not line.strip():
            n += 1
            if n >= sentences:
                break
    path = folder / "conll2003-sample.txt"
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return path


def dev_file(folder: Path, sentences: int) -> Path:
    """The first ``sentences`` sentences of CoNLL-2003 eng.testb (the default trained on eng.testa),
    else the test fixture's dev file."""
    src = CONLL / "eng.testb"
    if not src.is_file():
        return REPO / "tests" / "fixtures" / "app_dev.conll"
    blocks = src.read_text(encoding="utf-8").split("\n\n")
    out = folder / "test_excerpt.conll"
    out.write_text("\n\n".join(blocks[: sentences + 1]) + "\n", encoding="utf-8")
    return out


def detokenize(words: list[str]) -> str:
    """CoNLL tokens as running text.

    >>> detokenize(["Japan", "began", "(", "the", "cup", ")", "in", "Al-Ain", ",", "it", "'s", "said", "."])
    "Japan began (the cup) in Al-Ain, it's said."
    >>> detokenize(["European", "Champions", "'", "League"])
    "European Champions' League"
    """
    text = re.sub(r"s ' ", "s' ", " ".join(words))
    text = re.sub(r" ([.,;:!?)\]}%]|'s\b|n't\b)", r"\1", text)
    return re.sub(r"([(\[{$]) ", r"\1", text)


def testb_documents(count: int) -> list[list[str]]:
    """The first ``count`` documents of eng.testb with 5 sentences or more, each a list of its sentences
    as running text (headline, dateline, then the story); the fallback texts without the data."""
    src = CONLL / "eng.testb"
    if not src.is_file():
        return [[FALLBACK_TEXTS[(i + k) % len(FALLBACK_TEXTS)] for k in range(5)] for i in range(count)]
    docs: list[list[str]] = []
    for block in src.read_text(encoding="utf-8").split("\n\n"):
        words = [line.split()[0] for line in block.splitlines() if line.strip()]
        if words[:1] == ["-DOCSTART-"]:
            docs.append([])
        elif words and docs:
            docs[-1].append(detokenize(words))
    return [doc for doc in docs if len(doc) >= 5][:count]


def correct_texts(count: int) -> list[str]:
    """The Correct tab's texts: a story sentence (a full one, of 12 words or more) of each of the next
    documents of eng.testb after the 20 the "Tag a file" panel gets."""
    story = ([s for s in doc[3:] if s.endswith(".") and len(s.split()) >= 12 and s[0].isupper() and "(" not in s][:1]
             for doc in testb_documents(200)[20:])
    texts = [found[0] for found in story if found][:count]
    return texts if len(texts) == count else FALLBACK_TEXTS[:count]


def tagfile_source(folder: Path) -> Path:
    """A JSONL of 20 news documents ({"id", "text"}) for the "Tag a file" panel."""
    path = folder / "news-20.jsonl"
    docs = testb_documents(20)  # the first 5 sentences, one line each (headlines and datelines have no full stop)
    path.write_text("".join(json.dumps({"id": f"doc{i + 1}", "text": "\n".join(doc[:5])}) + "\n" for i, doc in enumerate(docs)),
                    encoding="utf-8")
    return path


# ---------------------------------------------------------------------------------- pictures
def save_png(png: bytes, path: Path) -> None:
    """Write a screenshot, reduced to a 256-colour palette if it is over MAX_PNG_BYTES."""
    if len(png) > MAX_PNG_BYTES:
        from PIL import Image

        buf = io.BytesIO()
        Image.open(io.BytesIO(png)).convert("RGB").quantize(colors=256).save(buf, format="PNG", optimize=True)
        png = buf.getvalue()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(png)
    print(f"{path.relative_to(REPO) if path.is_relative_to(REPO) else path}: {len(png) / 1000:.0f} KB", flush=True)


def settle(page: Any, width: int, height: int) -> None:
    """Resize the page and give the layout (tab bar, plots, tables) time to follow."""
    page.set_viewport_size({"width": width, "height": height})
    page.mouse.move(0, 0)  # no hover colour on the button clicked last
    page.wait_for_timeout(1200)
    page.evaluate("window.scrollTo(0, 0)")


def report_page(page: Any, where: str, sideways: bool) -> None:
    """Say what a reader of the picture should know: error toasts on screen, and what scrolls sideways."""
    toasts = [t.strip() for t in page.locator("[data-testid=toast-body]").all_inner_texts() if t.strip()]
    if toasts:
        print(f"  {where}: TOAST on screen: {toasts}", flush=True)
    if sideways:
        offenders = page.evaluate(SIDEWAYS, False) + page.evaluate(TABLES)  # the page; tables out of line or squeezed
        print(f"  {where}: scrolls sideways or tables out of line: {offenders if offenders else 'nothing'}", flush=True)


@dataclass
class Shooter:
    """Writes the pictures of one state of the page: the README clip, then the "after" pictures."""

    page: Any
    out: Path

    def readme(self, name: str, bottom_of: str | None, top_of: str | None = None, cap: int = 0) -> None:
        """screenshot-``name``.png at 1280 px: from the top of the page (or of ``top_of``) down to the
        bottom of ``bottom_of`` (else one screen), at most ``cap`` px below that element's top if given."""
        settle(self.page, *README_SIZE)
        top = 0
        if top_of:
            top = max(0, int(self.page.evaluate(EXTENT, top_of)[0]) - 10)
        bottom = README_SIZE[1]
        if bottom_of:
            el_top, el_bottom = self.page.evaluate(EXTENT, bottom_of)
            bottom = int(min(el_bottom, el_top + cap) if cap else el_bottom) + 10
        report_page(self.page, name, sideways=False)
        clip = {"x": 0, "y": top, "width": README_SIZE[0], "height": bottom - top}
        save_png(self.page.screenshot(full_page=True, clip=clip), self.out / f"screenshot-{name}.png")

    def after(self, name: str) -> None:
        """screenshots/after/``name``-{desktop,phone}.png, full page; back to the README size afterwards."""
        for viewport, (width, height) in AFTER_SIZES.items():
            settle(self.page, width, height)
            report_page(self.page, f"{name}-{viewport}", sideways=viewport == "phone")
            save_png(self.page.screenshot(full_page=True), self.out / "screenshots" / "after" / f"{name}-{viewport}.png")
        settle(self.page, *README_SIZE)


# ---------------------------------------------------------------------------------- tabs
def shoot_tag(shot: Shooter) -> None:
    """The Tag tab: the "long paragraph" example tagged (it runs when clicked)."""
    page = shot.page
    open_tab(page, "Tag")
    page.get_by_role("button", name="long paragraph").click()
    page.locator("#tag-info").get_by_text(re.compile(r"\d+ entities")).wait_for()
    page.wait_for_timeout(500)
    shot.readme("tag", "#entity-table", cap=330)


def shoot_tagfile(shot: Shooter, tmp: Path) -> None:
    """The Tag tab's "Tag a file" panel: a JSONL of 20 documents uploaded, previewed, tagged, downloads ready."""
    page = shot.page
    open_tab(page, "Tag")
    source = tagfile_source(tmp)
    page.locator("#tagfile").get_by_text("Tag a file").first.click()
    page.locator("#tagfile-upload input[type=file]").set_input_files(str(source))
    page.locator("#tagfile-info").get_by_text(source.name).wait_for()
    page.locator("#tagfile-preview").get_by_text("doc2").first.wait_for()
    page.locator("#tagfile-start").click()
    page.locator("#tagfile-status").get_by_text("Tagged").wait_for()
    page.locator("#tagfile-downloads a[download]").nth(4).wait_for()
    page.wait_for_function("(document.querySelector('#tagfile-results')?.innerText || '').includes('·')")
    page.wait_for_timeout(800)
    shot.readme("tagfile", "#tagfile-downloads", top_of="#tagfile")


def shoot_train(shot: Shooter, tmp: Path, sentences: int, epochs: int) -> None:
    """Fine-tune: MiniLM trained on a CoNLL-2003 excerpt, batch 16, the other settings as offered."""
    page = shot.page
    open_tab(page, "Fine-tune")
    page.locator("#train-file input[type=file]").set_input_files(str(training_file(tmp, sentences)))
    page.locator("#data-report").get_by_text("sentences").first.wait_for()
    set_number(page, "Epochs", epochs)
    set_number(page, "Batch size", 16)
    page.locator("#train-button").click()
    page.locator("#train-status").get_by_text("Done in").wait_for(timeout=TRAIN_TIMEOUT_MS)
    page.wait_for_timeout(1500)
    shot.readme("train", "#model-zip")
    shot.after("train")


def shoot_runs(shot: Shooter, trained: bool) -> None:
    """Runs: the list (with the run just trained, when there is one)."""
    page = shot.page
    open_tab(page, "Runs")
    if trained:
        page.wait_for_function("document.querySelector('#runs-table').innerText.includes('sentences)')")
    else:
        page.locator("#runs-table").wait_for()
    page.wait_for_timeout(800)
    shot.readme("runs", None)
    shot.after("runs")


def shoot_evaluate(shot: Shooter, tmp: Path) -> None:
    """Evaluate: the default model on the first 200 test sentences, down to the first error in the browser."""
    page = shot.page
    open_tab(page, "Evaluate")
    page.locator("#eval-file input[type=file]").set_input_files(str(dev_file(tmp, 200)))
    page.locator("#eval-button").click()
    page.locator("#eval-summary").get_by_text("sentences with errors").wait_for()
    page.locator("#eval-confusion").get_by_text("Entity level").first.wait_for()
    page.locator("#eval-slot-0").wait_for()
    page.wait_for_timeout(1000)
    shot.readme("evaluate", "#eval-slot-0")
    shot.after("evaluate")


def shoot_correct(shot: Shooter) -> None:
    """Correct: four news texts loaded, the first two accepted as the model suggested them; the
    third is in the editor with the model's suggestions, and the summary counts the two."""
    page = shot.page
    open_tab(page, "Correct")
    page.locator("#correct-summary").get_by_text("Dataset").wait_for()  # the page-load work is done (owner, datasets)
    texts = correct_texts(4)
    page.locator("#correct-text textarea").fill("\n\n".join(texts))
    page.locator("#correct-load").click()
    page.locator("#correct-editor .cx-text").wait_for()
    for n in (1, 2):
        page.locator(".cx-meta").get_by_text(f"Text {n} of {len(texts)}").wait_for()
        page.locator(".cx-act[data-op='accept']").click()
    page.locator(".cx-meta").get_by_text(f"Text 3 of {len(texts)}").wait_for()
    page.locator("#correct-summary").get_by_text("2 accepted").wait_for()
    page.wait_for_timeout(800)
    shot.readme("correct", "#correct-train-status")
    shot.after("correct")


# ---------------------------------------------------------------------------------- main
def open_app(browser: Any, url: str) -> Any:
    page = browser.new_page(viewport={"width": README_SIZE[0], "height": README_SIZE[1]})
    page.set_default_timeout(240_000)
    for _ in range(600):
        try:
            page.goto(url)
            break
        except Exception:  # noqa: BLE001 -- not up yet
            time.sleep(1)
    page.locator("#tag-text textarea").wait_for()
    page.locator("#model-summary").wait_for()
    return page


def run(args: argparse.Namespace, only: set[str]) -> None:
    from playwright.sync_api import sync_playwright

    with (
        tempfile.TemporaryDirectory(prefix="screenshots-") as tmp,
        running_app(Path(tmp) / "models", quiet=False) as (_proc, url, _t0),
        sync_playwright() as p,
    ):
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS, headless=True)
        shot = Shooter(open_app(browser, url), args.out)
        if "tag" in only:
            shoot_tag(shot)
        if "tagfile" in only:
            shoot_tagfile(shot, Path(tmp))
        if only & {"tag", "tagfile"}:
            shot.after("tag")  # the whole tab: the text's results, and the file's when it was tagged
        if "train" in only:
            shoot_train(shot, Path(tmp), args.sentences, args.epochs)
        if "runs" in only:
            shoot_runs(shot, trained="train" in only)
        if "evaluate" in only:
            shoot_evaluate(shot, Path(tmp))
        if "correct" in only:
            shoot_correct(shot)
        browser.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sentences", type=int, default=600, help="CoNLL-2003 sentences to fine-tune on")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--out", type=Path, default=REPO / "docs", help="folder of the README pictures (after pictures: OUT/screenshots/after)")
    ap.add_argument("--only", default=",".join(TABS), help=f"comma-separated subset of {','.join(TABS)} (Runs lists a run only after train)")
    args = ap.parse_args()
    only = {t.strip() for t in args.only.split(",") if t.strip()}
    if only - set(TABS):
        ap.error(f"--only: unknown {sorted(only - set(TABS))}; choose among {', '.join(TABS)}")
    t0 = time.perf_counter()
    run(args, only)
    print(f"done in {time.perf_counter() - t0:.0f} s", flush=True)


if __name__ == "__main__":
    main()
