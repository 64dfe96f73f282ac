"""An uploaded training file -> its data report and label-column choices.

The upload is used by the path Gradio gives it; its original name is never joined to a path.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tagger.data import read_file

PREVIEW_BYTES = 65_536


@dataclass
class Inspection:
    report: Any  # tagger.data.DataReport
    labels: list[str]  # the tag set a model trained on this file would have (tagger.train.label_list)
    column_choices: list[tuple[str, int]]  # empty unless the file has more than one label column
    label_column: int


def preview_rows(path: str | Path, max_rows: int = 300) -> list[list[str]]:
    """The first rows of a CoNLL-style file split into fields (for the column picker)."""
    with open(path, "rb") as f:
        text = f.read(PREVIEW_BYTES).decode("utf-8", errors="replace")
    rows = []
    for line in text.splitlines()[:-1] or text.splitlines():  # the last line may be cut
        if not line.strip() or line.startswith("-DOCSTART-"):
            continue
        rows.append([f.strip() for f in line.split("\t")] if "\t" in line else line.split())
        if len(rows) >= max_rows:
            break
    return rows


def inspect_upload(path: str | Path, label_column: int = -1) -> Inspection:
    """Read the file (raises ``tagger.data.DataError``) and describe it."""
    from tagger.train import label_list

    dataset = read_file(path, label_column)
    report = dataset.report
    try:
        labels = label_list(dataset.sentences)
    except RuntimeError:  # TrainingError: a single label; the report's warnings say so
        labels = []
    choices: list[tuple[str, int]] = []
    if report.format == "conll" and report.columns > 2:
        from .render import column_choices

        choices = column_choices(preview_rows(path), report.columns)
    return Inspection(report, labels, choices, report.label_column)
