"""What a page must not do, as scripts for Playwright's ``page.evaluate``, and the two moves every
browser script makes on the app's page (open a tab, set a number): shared by the browser tests
(tests/test_app_trust_browser.py asserts the checks) and bench/screenshots.py (reports them beside each picture)."""

from typing import Any


def open_tab(page: Any, name: str) -> None:
    """Click a tab; on a phone the last tabs sit behind Gradio's "More tabs" menu."""
    tab = page.get_by_role("tab", name=name)
    if tab.count() and tab.first.is_visible():
        tab.first.click()
        return
    page.locator('button[aria-label="More tabs"]').click()
    page.locator(".overflow-dropdown button", has_text=name).click()


def set_number(page: Any, label: str, value: float) -> None:
    """Type ``value`` into the number box of the slider (or box) labelled ``label`` and commit it."""
    box = page.get_by_label(f"number input for {label}") if label != "Learning rate" else page.get_by_label("Learning rate")
    box.fill(str(value))
    box.press("Enter")


# Everything that scrolls sideways on the page: the page itself, and (where asked) any element with a horizontal scrollbar
SIDEWAYS = """(elements) => {
  const out = [], de = document.documentElement;
  if (de.scrollWidth > de.clientWidth + 1) out.push(`page: ${de.scrollWidth} > ${de.clientWidth}`);
  if (!elements) return out;
  for (const el of document.querySelectorAll('body *')) {
    if (el.getClientRects().length === 0) continue;
    const x = getComputedStyle(el).overflowX;
    if ((x === 'auto' || x === 'scroll') && el.scrollWidth > el.clientWidth + 1) {
      let p = el, id = ''; while (p && !id) { id = p.id; p = p.parentElement; }
      out.push(`#${id} ${String(el.className).slice(0, 40)}: ${el.scrollWidth} > ${el.clientWidth}`);
    }
  }
  return out;
}"""

# Every table on screen: its visible column headers stand over the cells of its first row (Gradio 6 sizes the
# header, a sizing row and a virtual body apart: a column hidden or resized in one of them only shifts the
# others), and no header or cell is broken inside a word (a column squeezed narrower than one word).
TABLES = r"""() => {
  const out = [];
  for (const grid of document.querySelectorAll('[role=grid]')) {
    if (grid.getClientRects().length === 0) continue;
    let p = grid, id = ''; while (p && !id) { id = p.id; p = p.parentElement; }
    const shown = e => e.getClientRects().length > 0 && getComputedStyle(e).display !== 'none';
    const heads = [...grid.querySelectorAll('th.header-cell')].filter(shown);
    const row = grid.querySelector('[role=row].virtual-row');
    const cells = row ? [...row.querySelectorAll('[role=gridcell]')].filter(shown) : [];
    if (cells.length && cells.length !== heads.length) out.push(`#${id}: ${heads.length} headers over ${cells.length} cells`);
    cells.forEach((c, i) => { const h = heads[i]; if (!h) return;
      const a = h.getBoundingClientRect(), b = c.getBoundingClientRect();
      if (Math.abs(a.left - b.left) > 2 || Math.abs(a.width - b.width) > 2) out.push(`#${id} column ${i + 1}: header at ${a.left}+${a.width}, cells at ${b.left}+${b.width}`); });
    for (const span of [...heads, ...cells].map(e => e.querySelector('span')).filter(Boolean)) {
      const words = span.innerText.trim().split(/\s+/).filter(Boolean);
      if (!words.length) continue;
      const range = document.createRange(); range.selectNodeContents(span);
      const lines = new Set([...range.getClientRects()].map(r => Math.round(r.top))).size;
      if (lines > words.length) out.push(`#${id}: "${span.innerText.trim()}" broken inside a word (${lines} lines)`);
    }
  }
  return out;
}"""
