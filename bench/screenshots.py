"""README screenshots of the web app: docs/screenshot-{tag,train,runs,evaluate}.png.

Starts ``python app.py`` (default model: models/default, base: the packaged MiniLM) on a free
127.0.0.1 port, drives it with Playwright + Debian's Chromium, and fine-tunes MiniLM for a
few epochs on a CoNLL-2003 excerpt (../shared/data) or, without it, on the test fixture, shows
that run in the Runs tab, and evaluates the default model on the first 200 test sentences.

    python bench/screenshots.py [--sentences 600] [--epochs 3]
"""

from __future__ import annotations

import argparse
import io
import tempfile
import time
from pathlib import Path

from common import CONLL, REPO, running_app  # adds the repo to sys.path

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
MAX_PNG_BYTES = 300_000


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


def save_png(png: bytes, path: Path) -> None:
    """Write a screenshot, reduced to a 256-colour palette if it is over MAX_PNG_BYTES."""
    if len(png) > MAX_PNG_BYTES:
        from PIL import Image

        buf = io.BytesIO()
        Image.open(io.BytesIO(png)).convert("RGB").quantize(colors=256).save(buf, format="PNG", optimize=True)
        png = buf.getvalue()
    path.write_bytes(png)
    print(f"{path.relative_to(REPO)}: {len(png) / 1000:.0f} KB")


def set_number(page, label: str, value: float) -> None:
    box = page.get_by_label(f"number input for {label}") if label != "Learning rate" else page.get_by_label("Learning rate")
    box.fill(str(value))
    box.press("Enter")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sentences", type=int, default=600, help="CoNLL-2003 sentences to fine-tune on")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--out", type=Path, default=REPO / "docs")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    with (
        tempfile.TemporaryDirectory(prefix="screenshots-") as tmp,
        running_app(Path(tmp) / "models", quiet=False) as (_proc, url, _t0),
        sync_playwright() as p,
    ):
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(240_000)
        for _ in range(600):
            try:
                page.goto(url)
                break
            except Exception:  # noqa: BLE001 -- not up yet
                time.sleep(1)
        page.locator("#tag-text textarea").wait_for()

        page.get_by_role("button", name="long paragraph").click()
        page.wait_for_function("document.querySelector('#tag-text textarea').value.length > 100")
        page.locator("#tag-button").click()
        page.locator("#tag-info").get_by_text("entities").wait_for()
        page.wait_for_timeout(500)
        box = page.locator("#entity-table").bounding_box()
        height = int(box["y"] + min(box["height"], 330)) + 10 if box else 1100
        page.set_viewport_size({"width": 1280, "height": max(height, 900)})
        save_png(page.screenshot(clip={"x": 0, "y": 0, "width": 1280, "height": height}), args.out / "screenshot-tag.png")

        page.get_by_role("tab", name="Fine-tune").click()
        page.locator("#train-file input[type=file]").set_input_files(str(training_file(Path(tmp), args.sentences)))
        page.locator("#data-report").get_by_text("sentences").first.wait_for()
        set_number(page, "Epochs", args.epochs)
        set_number(page, "Batch size", 16)
        page.locator("#train-button").click()
        page.locator("#train-status").get_by_text("Done in").wait_for()
        page.wait_for_timeout(1000)
        box = page.locator("#model-zip").bounding_box()
        height = int(box["y"] + box["height"]) + 10 if box else 1700
        page.set_viewport_size({"width": 1280, "height": height})
        save_png(page.screenshot(clip={"x": 0, "y": 0, "width": 1280, "height": height}), args.out / "screenshot-train.png")

        page.set_viewport_size({"width": 1280, "height": 900})
        page.get_by_role("tab", name="Runs").click()
        page.wait_for_function("document.querySelector('#runs-table').innerText.includes('sentences)')")
        page.wait_for_timeout(500)
        save_png(page.screenshot(clip={"x": 0, "y": 0, "width": 1280, "height": 700}), args.out / "screenshot-runs.png")

        page.get_by_role("tab", name="Evaluate").click()
        page.locator("#eval-file input[type=file]").set_input_files(str(dev_file(Path(tmp), 200)))
        page.locator("#eval-button").click()
        page.locator("#eval-summary").get_by_text("sentences with errors").wait_for()
        page.locator("#eval-slot-0").wait_for()
        page.wait_for_timeout(1000)
        page.set_viewport_size({"width": 1280, "height": 1600})
        box = page.locator("#eval-slot-0").bounding_box(timeout=10_000)
        height = int(box["y"] + box["height"]) + 10 if box else 1600
        save_png(page.screenshot(clip={"x": 0, "y": 0, "width": 1280, "height": height}), args.out / "screenshot-evaluate.png")
        browser.close()


if __name__ == "__main__":
    main()
