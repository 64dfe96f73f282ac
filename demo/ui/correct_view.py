"""The Correct tab's editor: a ``gr.HTML`` whose value is built here (pure, escaped HTML of the text
on screen with its entities, the label bar, the buttons, the counter and progress bar) and whose
script (:data:`SCRIPT`, run by Gradio as ``js_on_load``) turns mouse and keyboard into edit events.

``gr.HighlightedText(interactive=True)`` was not enough: a new entity's label is typed free-hand
(no choice among the model's labels, no number keys), there are no keyboard shortcuts, and its value
is a list of (text, label) pieces, not offsets. Here the script only reports what the person did, as
character offsets of the raw selection (``trigger('act', {op, start, end, label})``); the server
snaps the selection to words (:func:`demo.service.correction_spans.snap`, the rule the readers and the
``/save_correction`` API use), applies it and sends the new HTML. One action is in flight at a time
(the script queues the rest until the view re-renders), so a fast "add, then accept" never races.
"""

from __future__ import annotations

import html
from typing import Any

from demo.service.correct_session import CorrectSession

from . import render

KEYS = ("a / Enter accept · x reject · s / Space skip · u / Ctrl+Z undo · 1–9 label the selection (or the chosen entity) · "
        "Del remove the chosen entity · Esc cancel")
EMPTY = ("Choose a model and a dataset, paste texts or upload a file, then press <b>Load texts</b>. "
         "Each text comes pre-annotated by the model: fix it, then accept it.")


def _attr(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _text(value: Any) -> str:
    return html.escape(str(value), quote=False)


def _piece(text: str, start: int, end: int) -> str:
    return f'<span class="cx-t" data-s="{start}">{_text(text[start:end])}</span>' if end > start else ""


def text_html(text: str, spans: list[dict[str, Any]], colors: dict[str, str], low: float) -> str:
    """The text with its entities as ``<mark>`` elements; every piece of text carries its character
    offset (``data-s``, in code points) so that the script can turn a selection into offsets.

    >>> text_html("Hi <Bob>!", [{"start": 3, "end": 8, "label": "PER", "score": 0.4}], {"PER": "#f87171"}, 0.6)
    '<span class="cx-t" data-s="0">Hi </span><mark class="cx-ent cx-low" data-s="3" data-e="8" data-label="PER" \
style="--c:#f87171" title="PER · model 0.40 (low)"><span class="cx-t" data-s="3">&lt;Bob&gt;</span><span class="cx-lab">PER</span></mark>\
<span class="cx-t" data-s="8">!</span>'
    """
    out, pos = [], 0
    for span in sorted(spans, key=lambda s: s["start"]):
        s, e, label = span["start"], span["end"], span["label"]
        out.append(_piece(text, pos, s))
        score = span.get("score")
        title = f"{label} · model {score:.2f}{' (low)' if score < low else ''}" if score is not None else f"{label} · yours"
        cls = "cx-ent cx-low" if score is not None and score < low else "cx-ent"
        out.append(f'<mark class="{cls}" data-s="{s}" data-e="{e}" data-label="{_attr(label)}" style="--c:{colors.get(label, "#fbbf24")}" '
                   f'title="{_attr(title)}">{_piece(text, s, e)}<span class="cx-lab">{_text(label)}</span></mark>')
        pos = e
    out.append(_piece(text, pos, len(text)))
    return "".join(out)


def _progress(session: CorrectSession | None) -> str:
    if session is None:
        return ""
    c = session.counts()
    return (f'<div class="cx-head"><progress class="cx-bar" value="{c["done"]}" max="{max(c["total"], 1)}"></progress>'
            f'<span class="cx-count">{c["done"]} of {c["total"]} done · {c["left"]} left · ✓ {c["accept"]} accepted · '
            f'✗ {c["reject"]} rejected · ⤼ {c["skip"]} skipped</span></div>')


def _label_bar(labels: list[str], colors: dict[str, str]) -> str:
    buttons = "".join(
        f'<button class="cx-label" data-label="{_attr(lab)}" style="--c:{colors.get(lab, "#fbbf24")}">'
        f'{f"<kbd>{i}</kbd> " if i <= 9 else ""}{_text(lab)}</button>' for i, lab in enumerate(labels, 1))
    return (f'<div class="cx-labels"><span class="cx-hint">Select words to add an entity; click an entity to relabel or remove '
            f'it.</span><div class="cx-labrow">{buttons}<input class="cx-new" type="text" maxlength="40" '
            f'placeholder="new label…" aria-label="new label"><button class="cx-newbtn">Use new label</button>'
            f'<button class="cx-remove" disabled>Remove <kbd>Del</kbd></button></div></div>')


ACTIONS = (("accept", "✓ Accept", "a"), ("reject", "✗ Reject", "x"), ("skip", "Skip", "s"), ("undo", "↶ Undo", "u"))


def editor_html(session: CorrectSession | None, low: float, stamp: int = 0) -> str:
    """The whole editor: counter and progress bar, the text on screen (or what to do), the label
    bar, the decision buttons, the last step's note and the keyboard shortcuts. ``stamp`` differs
    from one answer to the next, so that every answer is a new value (the editor re-renders, and
    its script lets the next action go)."""
    head = _progress(session)
    keys = f'<div class="cx-keys"><b>Keys</b>: {_text(KEYS)}</div>'
    root = f'<div class="cx" data-version="{session.version if session is not None else 0}" data-t="{stamp}">'
    note = f'<div class="cx-note">{_text(session.note)}</div>' if session is not None and session.note else ""
    undo = ('<div class="cx-actions"><button class="cx-act" data-op="undo">↶ Undo <kbd>u</kbd></button></div>'
            if session is not None and session.history else "")
    item = session.current if session is not None else None
    if session is None or not session.items:
        body = f'<div class="cx-empty">{EMPTY if session is None else "No text to correct in what was loaded."}</div>'
        return f'{root}{head}{body}{note}</div>'
    colors = render.color_map(session.labels)
    if item is None or item.spans is None:
        body = (f'<div class="cx-empty">All {len(session.items)} texts done. Train on the corrections below, download them, '
                f'or load more texts.</div>')
        return f'{root}{head}{body}{undo}{note}</div>'
    sure = f" · lowest word confidence {1 - item.uncertainty:.2f}" if item.uncertainty is not None else ""
    meta = (f'<div class="cx-meta">Text {session.pos + 1} of {len(session.order)} · {_text(item.source)}{_text(sure)} · '
            f'model <b>{_text(session.model)}</b> → dataset <b>{_text(session.dataset)}</b></div>')
    text = f'<div class="cx-text" data-len="{len(item.text)}">{text_html(item.text, item.spans, colors, low)}</div>'
    actions = "".join(f'<button class="cx-act cx-{op}" data-op="{op}">{label} <kbd>{key}</kbd></button>'
                      for op, label, key in ACTIONS)
    return (f'{root}{head}{meta}{text}{_label_bar(session.labels, colors)}'
            f'<div class="cx-actions">{actions}</div>{note}{keys}</div>')


CSS = """
.cx { font-size: 15px; }
.cx-head { display: flex; flex-wrap: wrap; align-items: center; gap: 4px 12px; margin-bottom: 6px; }
.cx-bar { flex: 0 1 220px; min-width: 120px; height: 10px; accent-color: #6366f1; }
.cx-count { flex: 1 1 240px; }  /* a phone puts the counter under the bar, not squeezed beside it */
.cx-count, .cx-meta, .cx-note, .cx-keys, .cx-hint { color: var(--body-text-color-subdued, #6b7280); font-size: 13px; }
.cx-text { white-space: pre-wrap; line-height: 2.1; padding: 12px 14px; border: 1px solid var(--border-color-primary, #e5e7eb);
  border-radius: 8px; background: var(--background-fill-primary, #fff); margin: 6px 0; min-height: 3em; }
.cx-ent { background: color-mix(in srgb, var(--c) 35%, transparent); border-bottom: 2px solid var(--c); border-radius: 4px;
  padding: 2px 1px; cursor: pointer; color: inherit; }
.cx-ent.cx-low { border-bottom-style: dashed; }
.cx-ent.cx-chosen { outline: 2px solid #111827; }
.cx-lab { font-size: 10px; font-weight: 700; margin-left: 3px; padding: 0 3px; border-radius: 3px; background: var(--c);
  color: #111827; user-select: none; -webkit-user-select: none; vertical-align: middle; }
.cx-labrow, .cx-actions { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; margin: 6px 0; }
.cx button { border: 1px solid var(--border-color-primary, #d1d5db); border-radius: 6px; padding: 4px 10px; cursor: pointer;
  background: var(--button-secondary-background-fill, #f3f4f6); color: var(--body-text-color, #111827); font-size: 14px; }
.cx button:disabled { opacity: .45; cursor: default; }
.cx .cx-label { border-left: 6px solid var(--c); }
.cx .cx-accept { background: #16a34a; border-color: #16a34a; color: #fff; font-weight: 600; }
.cx .cx-reject { background: #dc2626; border-color: #dc2626; color: #fff; }
.cx kbd { font-size: 11px; padding: 0 4px; border: 1px solid currentColor; border-radius: 3px; opacity: .75; }
.cx-new { width: 130px; padding: 4px 6px; border: 1px solid var(--border-color-primary, #d1d5db); border-radius: 6px; }
.cx-empty { padding: 14px; border: 1px dashed var(--border-color-primary, #d1d5db); border-radius: 8px; margin: 6px 0; }
.cx-note { min-height: 1.2em; }
.cx-hint.cx-active { color: var(--body-text-color, #111827); font-weight: 600; }
"""

# Run by Gradio when the editor mounts (``element``: the component's root; ``trigger``: sends an
# event to the server; ``watch``: runs after the value re-renders). Listeners are delegated to
# ``element`` so that they survive each re-render of the value.
SCRIPT = r"""
let pending = null, chosen = null, busy = false, queue = [], timer = null;
const cp = (s) => Array.from(s).length;
const hint = (text, active) => {
  const h = element.querySelector('.cx-hint');
  if (h) { h.textContent = text; h.classList.toggle('cx-active', !!active); }
};
function offsetOf(node, off) {
  if (node.nodeType === Node.TEXT_NODE) {
    const t = node.parentElement && node.parentElement.closest('.cx-t');
    if (t && element.contains(t)) return Number(t.dataset.s) + cp(node.data.slice(0, off));
  }
  const point = document.createRange();
  point.setStart(node, off);
  point.collapse(true);
  for (const t of element.querySelectorAll('.cx-text .cx-t')) {
    if (point.comparePoint(t, 0) >= 0) return Number(t.dataset.s);
  }
  const box = element.querySelector('.cx-text');
  return box ? Number(box.dataset.len) : 0;
}
function show() {
  element.querySelectorAll('mark.cx-chosen').forEach((m) => m.classList.remove('cx-chosen'));
  const remove = element.querySelector('.cx-remove');
  if (remove) remove.disabled = !chosen;
  if (chosen) {
    const m = element.querySelector(`mark[data-s="${chosen.start}"][data-e="${chosen.end}"]`);
    if (m) m.classList.add('cx-chosen');
    hint(`Entity “${chosen.text}” (${chosen.label}): pick another label (1–9), or Remove (Del).`, true);
  } else if (pending) {
    hint(`Selected “${pending.text}”: pick a label (1–9) or type a new one.`, true);
  } else {
    hint('Select words to add an entity; click an entity to relabel or remove it.', false);
  }
}
function release() {
  busy = false;
  if (timer) clearTimeout(timer);
  timer = null;
  if (queue.length) send(queue.shift());
}
function send(data) {
  if (busy) { queue.push(data); return; }
  busy = true;
  timer = setTimeout(release, 20000);  // no answer (a server error): let the next action go
  trigger('act', data);
}
function applyLabel(label) {
  label = (label || '').trim();
  if (!label) return;
  if (pending) send({op: 'add', start: pending.start, end: pending.end, label});
  else if (chosen) send({op: 'relabel', start: chosen.start, end: chosen.end, label});
  else { hint('Select words (or click an entity) first, then pick a label.', true); return; }
  pending = chosen = null;
  window.getSelection()?.removeAllRanges();
  if (document.activeElement && element.contains(document.activeElement)) document.activeElement.blur();  // keys work again
}
function removeChosen() {
  if (!chosen) return;
  send({op: 'remove', start: chosen.start, end: chosen.end});
  chosen = null;
}
element.addEventListener('mouseup', () => {
  const box = element.querySelector('.cx-text');
  const sel = window.getSelection();
  if (!box || !sel || sel.isCollapsed || !sel.rangeCount) return;
  const range = sel.getRangeAt(0);
  if (!box.contains(range.startContainer) || !box.contains(range.endContainer)) return;
  const start = offsetOf(range.startContainer, range.startOffset), end = offsetOf(range.endContainer, range.endOffset);
  if (end <= start) return;
  pending = {start, end, text: sel.toString().trim().slice(0, 60)};
  chosen = null;
  show();
});
element.addEventListener('click', (ev) => {
  const button = ev.target.closest('button');
  if (button && element.contains(button)) {
    button.blur();
    if (button.dataset.op) send({op: button.dataset.op});
    else if (button.classList.contains('cx-label')) applyLabel(button.dataset.label);
    else if (button.classList.contains('cx-newbtn')) applyLabel(element.querySelector('.cx-new')?.value);
    else if (button.classList.contains('cx-remove')) removeChosen();
    return;
  }
  const mark = ev.target.closest('mark.cx-ent');
  const sel = window.getSelection();
  if (!mark || (sel && !sel.isCollapsed)) return;
  chosen = {start: Number(mark.dataset.s), end: Number(mark.dataset.e), label: mark.dataset.label,
            text: mark.querySelector('.cx-t')?.textContent || ''};
  pending = null;
  show();
});
function onKey(ev) {
  const t = ev.target;
  if (t && t.classList && t.classList.contains('cx-new') && element.contains(t)) {
    if (ev.key === 'Enter') { ev.preventDefault(); applyLabel(t.value); }
    return;
  }
  const choice = t && t.tagName === 'INPUT' && /^(radio|checkbox|button|submit|range|file|color|reset)$/i.test(t.type);
  const typing = t && (t.isContentEditable || /^(TEXTAREA|SELECT)$/.test(t.tagName) || (t.tagName === 'INPUT' && !choice));
  if (typing) return;  // typing in a text box: no shortcuts
  if ((choice || (t && t.tagName === 'BUTTON')) && (ev.key === 'Enter' || ev.key === ' ')) return;  // its own click
  if (!element.isConnected || element.offsetParent === null || !element.querySelector('.cx-text, .cx-actions')) return;
  const k = ev.key, mod = ev.ctrlKey || ev.metaKey;
  if (ev.altKey) return;
  let handled = true;
  if (mod && (k === 'z' || k === 'Z')) send({op: 'undo'});
  else if (mod) handled = false;
  else if (k === 'a' || k === 'Enter') send({op: 'accept'});
  else if (k === 'x') send({op: 'reject'});
  else if (k === 's' || k === ' ') send({op: 'skip'});
  else if (k === 'u') send({op: 'undo'});
  else if (/^[1-9]$/.test(k)) {
    const b = element.querySelectorAll('.cx-label')[Number(k) - 1];
    if (b) applyLabel(b.dataset.label); else handled = false;
  } else if (k === 'Delete' || k === 'Backspace') removeChosen();
  else if (k === 'Escape') { pending = chosen = null; window.getSelection()?.removeAllRanges(); show(); }
  else handled = false;
  if (handled) ev.preventDefault();
}
window.__cxKey = onKey;  // the newest editor instance gets the keys
if (!window.__cxKeys) {
  window.__cxKeys = true;
  document.addEventListener('keydown', (ev) => window.__cxKey && window.__cxKey(ev));
  // "Load texts" keeps no focus: Enter then accepts instead of loading the texts again
  document.addEventListener('click', (ev) => {
    const load = ev.target.closest && ev.target.closest('#correct-load');
    if (load) setTimeout(() => load.blur(), 0);
  }, true);
}
watch('value', () => { pending = chosen = null; show(); release(); });
"""
