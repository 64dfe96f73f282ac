"""Label Studio's JSON export: a list of tasks, each ``{"data": {"text": ...}, "annotations": [{"result":
[{"type": "labels", "value": {"start", "end", "labels": [...]}}], "completed_by", "was_cancelled",
"updated_at"}]}``. Of several annotations of a task the chosen annotator's is used, else the most
recent; cancelled annotations are skipped, and so are tasks nobody annotated (no annotation is
not the same as "no entities"). Spans then go through :class:`~tagger.readers.spans.SpanReader`.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from ..errors import DataError
from .base import Conversion, ReadOptions, snippet
from .spans import SpanReader


def annotator_names(annotation: dict) -> set[str]:
    """Every way a user might name the annotator of an annotation (id, email, username).

    >>> sorted(annotator_names({"completed_by": {"id": 3, "email": "ann@x.org"}}))
    ['3', 'ann@x.org']
    >>> annotator_names({"completed_by": 7})
    {'7'}
    """
    who = annotation.get("completed_by")
    names: set[str] = set()
    if isinstance(who, dict):
        names |= {str(who[k]) for k in ("id", "email", "username", "first_name") if who.get(k) not in (None, "")}
    elif who is not None:
        names.add(str(who))
    return {n.strip().lower() if "@" in n else n.strip() for n in names}


def _when(annotation: dict) -> datetime:
    for key in ("updated_at", "created_at"):
        value = annotation.get(key)
        if isinstance(value, str):
            try:
                when = datetime.fromisoformat(value)
            except ValueError:
                continue
            return when if when.tzinfo else when.replace(tzinfo=None)
    return datetime.min


def choose(annotations: list[dict], annotator: str | None) -> tuple[dict | None, str]:
    """The annotation to train on and why: (annotation, note) or (None, reason skipped).

    >>> a = {"id": 1, "completed_by": 1, "updated_at": "2024-05-02T10:00:00Z", "result": []}
    >>> b = {"id": 2, "completed_by": 2, "updated_at": "2024-05-03T09:00:00Z", "result": []}
    >>> choose([a, b], None)[0]["id"], choose([a, b], "1")[0]["id"], choose([a, b], "9")
    (2, 1, (None, 'tasks with no annotation by 9 (skipped)'))
    """
    live = [a for a in annotations if isinstance(a, dict) and not a.get("was_cancelled")]
    if not annotations:
        return None, "tasks with no annotation (skipped)"
    if annotator is not None:
        wanted = annotator.strip().lower() if "@" in annotator else annotator.strip()
        live = [a for a in live if wanted in annotator_names(a)]
        if not live:
            return None, f"tasks with no annotation by {annotator} (skipped)"
    if not live:
        return None, "tasks with only cancelled annotations (skipped)"
    if len(live) == 1:
        return live[0], ""
    best = max(enumerate(live), key=lambda ia: (_when(ia[1]).timestamp() if _when(ia[1]) != datetime.min else float("-inf"), ia[0]))
    who = f"annotator {annotator}'s most recent used" if annotator else "the most recent used"
    return best[1], f"tasks with several annotations ({who})"


def task_text(task: dict, path: Path, n: int) -> str:
    data = task.get("data")
    if not isinstance(data, dict):
        raise DataError(path, n, 'expected a Label Studio task with "data": {"text": ...}', unit="task")
    if isinstance(data.get("text"), str):
        return data["text"]
    strings = [k for k, v in data.items() if isinstance(v, str)]
    if len(strings) == 1:
        return data[strings[0]]
    raise DataError(path, n, f'"data" has no "text" key (keys: {", ".join(sorted(data)[:8])}); expected the text under "text"',
                    unit="task")


class LabelStudioReader:
    def __init__(self, path: Path, opts: ReadOptions, conv: Conversion) -> None:
        self.path, self.opts, self.conv = path, opts, conv
        self.spans = SpanReader(path, opts, conv, unit="task")

    def record(self, task: dict, n: int) -> list:
        text = task_text(task, self.path, n)
        self.conv.count("records")
        annotations = task.get("annotations", task.get("completions")) or []
        if not isinstance(annotations, list):
            raise DataError(self.path, n, '"annotations" must be a list', unit="task")
        cancelled = sum(1 for a in annotations if isinstance(a, dict) and a.get("was_cancelled"))
        if cancelled:
            self.conv.count("annotations cancelled (skipped)", cancelled)
        chosen, note = choose(annotations, self.opts.annotator)
        label = f"{self.path.name}, task {n}" + (f" (id {task['id']})" if "id" in task else "")
        if chosen is None:
            self.conv.count(note, example=f"{label}: {snippet(text)}")
            return []
        if note:
            self.conv.count(note, example=f"{label}: annotation {chosen.get('id', '?')} of {len(annotations)}")
        spans: list[dict[str, Any]] = []
        for item in chosen.get("result") or []:
            value = item.get("value") if isinstance(item, dict) else None
            if not isinstance(value, dict) or "start" not in value or not isinstance(value.get("labels"), list):
                self.conv.count("Label Studio results that are not text spans (ignored)")
                continue
            spans.append({"start": value["start"], "end": value.get("end"), "labels": value["labels"]})
        return self.spans.record({"text": text, "spans": spans, "answer": "accept"}, n, count=False)

    def meta(self) -> dict:
        return {"format": "labelstudio", "separator": "-", "columns": 0, "label_column": -1, "label_name": "spans"}
