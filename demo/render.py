"""Predictions, data reports and scores -> values for Gradio components. Pure functions.

Everything user-controlled (text, file names, label names) that goes into Markdown or an
error message is escaped here; HighlightedText and Dataframe cells render text as text.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from typing import Any

import pandas as pd

from tagger.data import count

# Fixed colours for the usual entity types; other types get one from the palette by order.
TYPE_COLORS = {
    "PER": "#f87171", "PERSON": "#f87171", "Person": "#f87171",
    "ORG": "#60a5fa", "Organisation": "#60a5fa", "Organization": "#60a5fa",
    "LOC": "#4ade80", "GPE": "#4ade80", "Location": "#4ade80",
    "MISC": "#c084fc",
}
PALETTE = ["#fbbf24", "#2dd4bf", "#f472b6", "#a3e635", "#fb923c", "#818cf8", "#22d3ee", "#e879f9", "#facc15", "#94a3b8"]
O_COLOR = "#e5e7eb"
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|>~])")


def md(text: object) -> str:
    """Escape user-controlled text for a Markdown component (no HTML, no Markdown syntax)."""
    # quotes stay: they are plain text in Markdown, and an entity like &#x27; would show as such once # is escaped
    return _MD_SPECIAL.sub(r"\\\1", html.escape(str(text), quote=False))


def plain(text: object) -> str:
    """Escape user-controlled text for a gr.Error/gr.Warning message (rendered as HTML, as element text)."""
    return html.escape(str(text), quote=False)


def entity_type(label: str) -> str:
    return label[2:] if len(label) > 2 and label[1] == "-" and label[0] in "BIES" else label


def color_map(types: list[str]) -> dict[str, str]:
    out, n = {}, 0
    for t in types:
        if t in TYPE_COLORS:
            out[t] = TYPE_COLORS[t]
        else:
            out[t] = PALETTE[n % len(PALETTE)]
            n += 1
    return out


def model_types(labels: list[str]) -> list[str]:
    """Entity types of a label list, in order of first appearance (``O`` dropped)."""
    return list(dict.fromkeys(entity_type(lab) for lab in labels if lab != "O"))


def entity_value(pred: Any) -> dict[str, Any]:
    """The HighlightedText value: character-offset entity dicts (adjacent entities stay separate)."""
    return {
        "text": pred.text,
        "entities": [
            {"entity": e.label, "start": e.start, "end": e.end, "score": round(e.score, 4), "word": e.text}
            for e in pred.entities
        ],
    }


LOW_MARK = " ⚠"


def raw_label(label: str, score: float, low: float) -> str:
    return label + LOW_MARK if score < low else label


def word_value(pred: Any, low: float) -> dict[str, Any]:
    """Every word with its raw tag (``B-``/``I-``/``O``); low-confidence words get a ⚠."""
    return {
        "text": pred.text,
        "entities": [{"entity": raw_label(w.label, w.score, low), "start": w.start, "end": w.end} for w in pred.words],
    }


def word_color_map(labels: list[str]) -> dict[str, str]:
    """Colours for the raw view: ``B-X``/``I-X`` (and their ⚠ variants) in X's colour, ``O`` grey."""
    base = color_map(model_types(labels))
    out = {}
    for lab in labels:
        color = O_COLOR if lab == "O" else base.get(entity_type(lab), PALETTE[-1])
        out[lab] = out[lab + LOW_MARK] = color
    return out


def flag(score: float, low: float) -> str:
    return "⚠ low" if score < low else ""


ENTITY_COLUMNS = ["entity", "type", "confidence", "flag", "start", "end"]
WORD_COLUMNS = ["#", "word", "label", "confidence", "flag"]


def entity_table(pred: Any, low: float) -> pd.DataFrame:
    rows = [[e.text, e.label, round(e.score, 3), flag(e.score, low), e.start, e.end] for e in pred.entities]
    return pd.DataFrame(rows, columns=ENTITY_COLUMNS)


def word_table(pred: Any, low: float) -> pd.DataFrame:
    rows = [[i + 1, w.text, w.label, round(w.score, 3), flag(w.score, low)] for i, w in enumerate(pred.words)]
    return pd.DataFrame(rows, columns=WORD_COLUMNS)


def empty_table(columns: list[str]) -> pd.DataFrame:
    """No rows, but the real column names (a Dataframe without a value shows headers ``1 2 3``).

    >>> list(empty_table(ENTITY_COLUMNS).columns)[:2], len(empty_table(ENTITY_COLUMNS))
    (['entity', 'type'], 0)
    """
    return pd.DataFrame([], columns=columns)


def tag_info(pred: Any, model: str, seconds: float, low: float) -> str:
    counts = Counter(e.label for e in pred.entities)
    by_type = ", ".join(f"{md(k)} {v}" for k, v in counts.most_common()) or "none"
    n_low = sum(w.score < low for w in pred.words)
    low_note = f"; **{n_low} low-confidence word{'s' if n_low != 1 else ''}** (score < {low:g}, marked ⚠)" if n_low else ""
    return (
        f"{len(pred.words):,} words, {len(pred.entities):,} entities ({by_type}) "
        f"in {seconds * 1000:.0f} ms with model `{md(model)}`{low_note}"
    )


def _f1(scores: object) -> str:
    return f"{scores['f1']:.1f}" if isinstance(scores, dict) and isinstance(scores.get("f1"), int | float) else "–"


def model_summary(summary: dict[str, Any]) -> str:
    config = summary.get("config") or {}
    labels = summary.get("labels") or []
    types = model_types(labels)
    report = summary.get("data_report") or {}
    trained_on = f" · trained on {md(report.get('file'))} ({count(report.get('sentences', 0), 'sentence')})" if report else ""
    # a refit (keep="last") trained on its dev data: its dev F1 is no held-out measure
    refit = " (trained on: refit on train + dev)" if config.get("keep") == "last" else ""
    source = {"default": "shipped default", "trained": "trained in this app", "run": "trained in this app",
              "folder": "model folder"}.get(summary.get("source", ""), "")
    return (
        f"**{md(summary.get('name', ''))}** ({source}) · base `{md(config.get('base', '?'))}` · head {md(config.get('head', '?'))}"
        f"{trained_on}  \n"
        f"labels ({len(types)}): {md(', '.join(types)) or '–'}  \n"
        f"dev F1 **{_f1(summary.get('dev'))}**{refit} · test F1 **{_f1(summary.get('test'))}**"
    )


def report_markdown(report: Any, dev_report: Any | None = None) -> str:
    r = report
    lines = [
        (f"**{md(r.file)}**: {count(r.sentences, 'sentence')}, {count(r.words, 'word')}, {count(r.documents, 'document')}, "
         f"longest sentence {r.longest_sentence:,} words"),
        (f"format {md(r.format)} ({source_of_labels(r)}) · "
         f"tag scheme **{md(r.scheme)}** (read as IOB2) · {count(r.repaired, 'sentence')} with repaired tags"),
    ]
    sources = list(getattr(r, "sources", []) or [])
    lines += [f"file {md(s)}" for s in sources[:8]] + ([f"… and {len(sources) - 8} more files"] if len(sources) > 8 else [])
    if dev_report is not None:
        lines.append(f"dev file **{md(dev_report.file)}**: {count(dev_report.sentences, 'sentence')}, labels {md(', '.join(dev_report.labels))}")
    else:
        lines.append("no dev file: 10% of the sentences are held out (fixed seed)")
    lines += conversion_lines(r)
    lines += [f"⚠ {md(w)}" for w in r.warnings]
    if dev_report is not None:
        lines += [f"⚠ dev: {md(w)}" for w in dev_report.warnings]
    return "  \n".join(lines)


def source_of_labels(r: Any) -> str:
    """Where a report's labels come from, for people.

    >>> from types import SimpleNamespace as R
    >>> source_of_labels(R(format="conll", separator="tab", columns=4, label_column=3, label_name="column 3"))
    'tab-separated, 4 columns, labels from column 3'
    >>> source_of_labels(R(format="conllu", separator="tab", columns=10, label_column=3, label_name="upos"))
    'tab, labels from upos'
    """
    if r.format == "conll":
        return f"{md(r.separator)}-separated, {r.columns} columns, labels from column {r.label_column}"
    where = [md(r.separator)] if r.separator not in ("-", "") else []
    return ", ".join([*where, f"labels from {md(getattr(r, 'label_name', '') or r.label_column)}"])


def conversion_lines(r: Any, examples: int = 8) -> list[str]:
    """The conversion counts (records, spans kept, snapped, dropped ...) and the first examples.

    >>> from types import SimpleNamespace as R
    >>> conversion_lines(R(conversion={"spans": 3, "spans: snapped to whole words": 1}, examples=["a.jsonl, line 2: Pari -> Paris"]))
    ['conversion: spans 3 · spans: snapped to whole words 1', 'example: a.jsonl, line 2: Pari -&gt; Paris']
    """
    counts = getattr(r, "conversion", None) or {}
    if not counts:
        return []
    out = ["conversion: " + " · ".join(f"{md(k)} {v:,}" for k, v in counts.items())]
    return out + [f"example: {md(e)}" for e in (getattr(r, "examples", None) or [])[:examples]]


def labels_table(report: Any) -> pd.DataFrame:
    rows = [[k, v] for k, v in sorted(report.labels.items(), key=lambda kv: -kv[1])]
    return pd.DataFrame(rows, columns=["label", "count"])


def labels_table_empty() -> pd.DataFrame:
    return pd.DataFrame([], columns=["label", "count"])


SCORE_COLUMNS = ["type", "precision", "recall", "F1", "support"]


def scores_table_empty() -> pd.DataFrame:
    return pd.DataFrame([], columns=SCORE_COLUMNS)


def scores_table(dev: dict[str, Any]) -> pd.DataFrame:
    """Per-type and micro-averaged P/R/F1 in % with one decimal, and the support."""
    rows = [
        [k, round(v["precision"], 1), round(v["recall"], 1), round(v["f1"], 1), int(v["support"])]
        for k, v in sorted((dev.get("per_type") or {}).items())
    ]
    rows.append(["micro avg", round(dev["precision"], 1), round(dev["recall"], 1), round(dev["f1"], 1),
                 sum(r[4] for r in rows)])
    return pd.DataFrame(rows, columns=SCORE_COLUMNS)


def loss_frame(points: list[tuple[float, float]]) -> pd.DataFrame:
    return pd.DataFrame(points or [], columns=["epoch", "loss"], dtype=float)


def f1_frame(points: list[tuple[float, float]]) -> pd.DataFrame:
    """Dev F1 in % with one decimal (the plot's axis and tooltips show what the frame holds).

    >>> f1_frame([(1.0, 45.501097)])["dev F1"].tolist()
    [45.5]
    """
    return pd.DataFrame([(x, round(y, 1)) for x, y in points or []], columns=["epoch", "dev F1"], dtype=float)


RUN_COLUMNS = ["name", "date", "data", "labels", "epochs", "dev F1", "time", "device"]


def runs_table(runs: list[dict[str, Any]]) -> pd.DataFrame:
    """The Runs view: one row per run summary (:meth:`demo.runs.Run.summary`), newest first.

    >>> t = runs_table([{"name": "r1", "created": "2025-01-02 10:00", "train_file": "a.conll", "sentences": 1200,
    ...                  "labels": ["O", "B-PER", "I-PER"], "epochs": 3, "best_epoch": 2, "dev_f1": 91.26,
    ...                  "seconds": 75.2, "device": "cuda:0", "precision": "bf16"}])
    >>> t.values.tolist()
    [['r1', '2025-01-02 10:00', 'a.conll (1,200 sentences)', 'PER', 'best 2 of 3', '91.3', '1 min 15 s', 'cuda:0 (bf16)']]
    >>> list(runs_table([]).columns) == RUN_COLUMNS
    True
    """
    rows = []
    for r in runs:
        data = r.get("train_file") or "?"
        if r.get("sentences"):
            data += f" ({r['sentences']:,} sentences)"
        epochs = f"best {r['best_epoch']} of {r['epochs']}" if r.get("best_epoch") and r.get("epochs") else str(r.get("epochs") or "")
        f1 = f"{r['dev_f1']:.1f}" if isinstance(r.get("dev_f1"), int | float) else "–"
        device = r.get("device") or "cpu"
        if r.get("precision") and r["precision"] != "fp32":
            device += f" ({r['precision']})"
        rows.append([r.get("name", ""), r.get("created") or "", data, ", ".join(model_types(r.get("labels") or [])), epochs, f1,
                     duration(r.get("seconds")), device])
    return pd.DataFrame(rows, columns=RUN_COLUMNS)


def duration(seconds: Any) -> str:
    """A run's time, for people.

    >>> duration(75.2), duration(3725), duration(None)
    ('1 min 15 s', '1 h 2 min', '–')
    """
    if not isinstance(seconds, int | float):
        return "–"
    s = round(seconds)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60} s"
    return f"{s // 3600} h {s % 3600 // 60} min"


def column_choices(preview: list[list[str]], ncols: int) -> list[tuple[str, int]]:
    """Label-column picker entries: ``column 3 (last): B-ORG, O, B-PER`` for columns 1..n-1."""
    out = []
    for c in range(1, ncols):
        seen = list(dict.fromkeys(row[c] for row in preview if len(row) == ncols))[:4]
        last = " (last)" if c == ncols - 1 else ""
        out.append((f"column {c}{last}: {', '.join(seen)}", c))
    return out
