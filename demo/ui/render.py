"""Predictions, data reports and scores -> values for Gradio components. Pure functions.

Everything user-controlled (text, file names, label names) that goes into Markdown or an
error message is escaped here; HighlightedText and Dataframe cells render text as text.
"""

from __future__ import annotations

import html
from collections import Counter
from typing import TYPE_CHECKING, Any

import pandas as pd

from demo.service.progress import about
from demo.service.text import md, plain  # noqa: F401 -- the UI's escaping, re-exported
from tagger.data import count
from tagger.record import f1_of

if TYPE_CHECKING:
    from pandas.io.formats.style import Styler

# Fixed colours for the usual entity types; other types get one from the palette by order.
TYPE_COLORS = {
    "PER": "#f87171", "PERSON": "#f87171", "Person": "#f87171",
    "ORG": "#60a5fa", "Organisation": "#60a5fa", "Organization": "#60a5fa",
    "LOC": "#4ade80", "GPE": "#4ade80", "Location": "#4ade80",
    "MISC": "#c084fc",
}
PALETTE = ["#fbbf24", "#2dd4bf", "#f472b6", "#a3e635", "#fb923c", "#818cf8", "#22d3ee", "#e879f9", "#facc15", "#94a3b8"]
O_COLOR = "#e5e7eb"


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


def word_table(pred: Any, low: float) -> pd.DataFrame:
    rows = [[i + 1, w.text, w.label, round(w.score, 3), flag(w.score, low)] for i, w in enumerate(pred.words)]
    return pd.DataFrame(rows, columns=WORD_COLUMNS)


def empty_table(columns: list[str]) -> pd.DataFrame:
    """No rows, but the real column names (a Dataframe without a value shows headers ``1 2 3``).

    >>> list(empty_table(ENTITY_COLUMNS).columns)[:2], len(empty_table(ENTITY_COLUMNS))
    (['entity', 'type'], 0)
    """
    return pd.DataFrame([], columns=columns)


def language_warning(guess: Any, model: str, record: Any) -> str:
    """A warning for text in another language than the model's (``guess``: :func:`tagger.language.mismatch`).

    >>> from tagger.language import Guess
    >>> from tagger.record import ModelRecord
    >>> language_warning(Guess("de", "German", 0.9), "default", ModelRecord.from_json({"config": {"language": "en"}, "domain": "news"}))
    '⚠ **This text looks German**, but `default` was trained on English text (news): expect missed and wrong entities.'
    """
    if guess is None:
        return ""
    trained = LANGUAGES.get(record.language, record.language) + " text" + (f" ({md(record.domain)})" if record.domain else "")
    return f"⚠ **This text looks {md(guess.name)}**, but `{md(model)}` was trained on {trained}: expect missed and wrong entities."


def tag_info(pred: Any, model: str, seconds: float, low: float, warning: str = "") -> str:
    counts = Counter(e.label for e in pred.entities)
    by_type = ", ".join(f"{md(k)} {v}" for k, v in counts.most_common()) or "none"
    n_low = sum(w.score < low for w in pred.words)
    low_note = f"; **{n_low} low-confidence word{'s' if n_low != 1 else ''}** (score < {low:g}, marked ⚠)" if n_low else ""
    line = (f"{len(pred.words):,} words, {len(pred.entities):,} entities ({by_type}) "
            f"in {seconds * 1000:.0f} ms with model `{md(model)}`{low_note}")
    return f"{warning}  \n{line}" if warning else line


LANGUAGES = {"en": "English", "de": "German", "fr": "French", "es": "Spanish", "nl": "Dutch", "it": "Italian", "pt": "Portuguese"}
SOURCES = {"default": "shipped default", "run": "trained in this app", "folder": "model folder"}


def model_card(name: str, source: str, record: Any) -> str:
    """Markdown card of a model (a :class:`tagger.record.ModelRecord`): base, language and training
    data, labels, and each score with the data it was measured on; no dev score for a model that
    trained on its dev data (a refit), since it would not be a held-out measure.

    >>> from tagger.record import ModelRecord
    >>> rec = ModelRecord.from_json({"labels": ["O", "B-PER", "I-PER"], "config": {"base": "b", "head": "casing", "language": "en"},
    ...     "data_report": {"file": "eng.train", "sentences": 14041}, "dev": {"f1": 99.6}, "dev_in_training": True,
    ...     "test": {"f1": 90.11}, "test_file": "eng.testb", "domain": "news"})
    >>> print(model_card("default", "default", rec))
    **default** (shipped default) · base `b` · head casing  
    English · trained on **eng.train** (14,041 sentences): news  
    labels (1): PER  
    test F1 **90.1** on eng.testb · no dev score (it trained on its dev data)
    """
    report = record.data_report or {}
    language = LANGUAGES.get(record.language, record.language)
    trained_on = ""
    if report.get("file"):
        trained_on = f" · trained on **{md(report['file'])}** ({count(int(report.get('sentences') or 0), 'sentence')})"
    domain = f": {md(record.domain)}" if record.domain else ""
    if record.run is not None and record.run.init_from:
        domain += f" · continued from **{md(record.run.init_from)}**"
    scores = []
    if record.test_f1 is not None:
        on = f" on {md(record.test_file)}" if record.test_file else " on its test file"
        scores.append(f"test F1 **{record.test_f1:.1f}**{on}")
    if record.dev_in_training:
        scores.append("no dev score (it trained on its dev data)")
    elif record.dev_f1 is not None:
        scores.append(f"dev F1 **{record.dev_f1:.1f}** on its held-out dev data")
    if record.before is not None and f1_of(record.before) is not None:
        scores.append(f"before this run: dev F1 {f1_of(record.before):.1f}")
    types = record.types
    return (
        f"**{md(name)}** ({SOURCES.get(source, source)}) · base `{md(record.base or '?')}` · head {md(record.head or '?')}  \n"
        f"{language}{trained_on}{domain}  \n"
        f"labels ({len(types)}): {md(', '.join(types)) or '–'}  \n"
        + (" · ".join(scores) or "no scores recorded")
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


def scores_table(dev: dict[str, Any]) -> Styler:
    """Per-type and micro-averaged P/R/F1 in % with one decimal, and the support. A Styler, so that
    the page shows "67.0" as the status line does (the Dataframe component draws the number 67.0 as
    "67"); ``.data`` is the frame, and API callers get the numbers.

    >>> t = scores_table({"precision": 70.0, "recall": 64.44, "f1": 67.0,
    ...                   "per_type": {"PER": {"precision": 70.0, "recall": 64.44, "f1": 67.0, "support": 9}}})
    >>> t.data.values.tolist()
    [['PER', 70.0, 64.4, 67.0, 9], ['micro avg', 70.0, 64.4, 67.0, 9]]
    >>> t.to_string(delimiter=" ").splitlines()[-1]
    '1 micro avg 70.0 64.4 67.0 9'
    """
    rows = [
        [k, round(v["precision"], 1), round(v["recall"], 1), round(v["f1"], 1), int(v["support"])]
        for k, v in sorted((dev.get("per_type") or {}).items())
    ]
    rows.append(["micro avg", round(dev["precision"], 1), round(dev["recall"], 1), round(dev["f1"], 1),
                 sum(r[4] for r in rows)])
    return pd.DataFrame(rows, columns=SCORE_COLUMNS).style.format(precision=1, subset=["precision", "recall", "F1"])


def loss_frame(points: list[tuple[float, float]]) -> pd.DataFrame:
    return pd.DataFrame(points or [], columns=["epoch", "loss"], dtype=float)


def f1_frame(points: list[tuple[float, float]]) -> pd.DataFrame:
    """Dev F1 in % with one decimal (the plot's axis and tooltips show what the frame holds).

    >>> f1_frame([(1.0, 45.501097)])["dev F1"].tolist()
    [45.5]
    """
    return pd.DataFrame([(x, round(y, 1)) for x, y in points or []], columns=["epoch", "dev F1"], dtype=float)


def progress_bar(snap: dict[str, Any] | None) -> str:
    """The job's progress as a bar with what is left (HTML; empty without a job).

    >>> progress_bar({"state": "running", "progress": 0.42, "eta_s": 185.0})
    '<div class="job-progress"><progress value="0.42" max="1"></progress><span>42% · about 3 min left</span></div>'
    >>> progress_bar({"state": "queued", "progress": 0, "position": 2, "wait_s": None})
    '<div class="job-progress"><progress value="0" max="1"></progress><span>queued, position 2 · start time not known yet</span></div>'
    >>> progress_bar(None)
    ''
    """
    if not snap:
        return ""
    state, fraction = snap.get("state"), float(snap.get("progress") or 0)
    if state == "queued":
        wait = snap.get("wait_s")
        when = f"expected to start in {about(wait)}" if wait is not None else "start time not known yet"
        text = f"queued, position {snap.get('position')} · {when}"
    elif state == "running":
        eta = snap.get("eta_s")
        text = f"{fraction:.0%} · " + (f"{about(eta)} left" if eta is not None else "estimating the time left…")
    elif state == "done":
        fraction, text = 1.0, f"done in {duration(snap.get('seconds'))}"
    else:
        text = str(state)
    return f'<div class="job-progress"><progress value="{fraction:.4g}" max="1"></progress><span>{html.escape(text)}</span></div>'


def others_note(others: dict[str, Any]) -> str:
    """What a visitor without a job of their own is told about other users' jobs (counts only).

    >>> others_note({"running": 1, "waiting": 2, "eta_s": 130.0, "slots": 1})
    "⏳ Another user's training job is running (about 2 min left) and 2 more are waiting: a job you start now waits for them."
    >>> others_note({"running": 0, "waiting": 0, "eta_s": None, "slots": 1})
    ''
    """
    running, waiting = others.get("running", 0), others.get("waiting", 0)
    if not running and not waiting:
        return ""
    left = f" ({about(others['eta_s'])} left)" if others.get("eta_s") is not None else ""
    first = (f"Another user's training job is running{left}" if running == 1 else
             f"{running} other users' training jobs are running{left}") if running else "No job is running"
    more = f" and {waiting} more {'is' if waiting == 1 else 'are'} waiting" if waiting else ""
    free = running < others.get("slots", 1) and not waiting
    return f"⏳ {first}{more}: " + ("a job you start now starts at once." if free else "a job you start now waits for them.")


SCORE_WIDTHS = ["24%", "19%", "19%", "19%", "19%"]  # a scores table fits a phone: type, then four numbers


RUN_COLUMNS = ["name", "whose", "date", "data", "labels", "epochs", "dev F1", "time", "device"]


def runs_table(runs: list[dict[str, Any]]) -> pd.DataFrame:
    """The Runs view: one row per run summary (:meth:`demo.service.registry.ModelRegistry.run_summaries`),
    newest first; "dev F1" is "–" for a run that trained on its dev data.

    >>> t = runs_table([{"name": "r1", "owner": "you", "created": "2025-01-02 10:00", "train_file": "a.conll", "sentences": 1200,
    ...                  "labels": ["O", "B-PER", "I-PER"], "epochs": 3, "best_epoch": 2, "dev_f1": 91.26,
    ...                  "seconds": 75.2, "device": "cuda:0", "precision": "bf16"}])
    >>> t.values.tolist()
    [['r1', 'you', '2025-01-02 10:00', 'a.conll (1,200 sentences)', 'PER', 'best 2 of 3', '91.3', '1 min 15 s', 'cuda:0 (bf16)']]
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
        rows.append([r.get("name", ""), r.get("owner") or "", r.get("created") or "", data,
                     ", ".join(model_types(r.get("labels") or [])), epochs, f1, duration(r.get("seconds")), device])
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
