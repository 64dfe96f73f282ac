"""Label Studio JSON export: the annotation chosen per task (an annotator, or the most recent),
cancelled annotations and unannotated tasks skipped and counted, non-span results ignored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support import FIXTURES

from tagger.data import DataError, read_file

pytestmark = pytest.mark.unit
LS = FIXTURES / "readers" / "labelstudio.json"


def words_tags(ds: object) -> list[list[tuple[str, str]]]:
    return [list(zip(s.words, s.tags)) for s in ds.sentences]  # type: ignore[attr-defined]


def test_readers_labelstudio_most_recent_annotation() -> None:
    ds = read_file(LS)
    assert words_tags(ds) == [
        [("Anna", "B-PER"), ("met", "O"), ("Bob", "B-PER"), ("in", "O"), ("Rome", "B-LOC"), (".", "O")],  # annotation 102 (newer)
        [("Zoe", "B-PER"), ("left", "O"), ("Paris", "B-LOC"), (".", "O")],  # 103 was cancelled: 104
        [("Max", "B-PER"), ("sang", "O"), (".", "O")],  # the "choices" result is ignored
    ]
    assert ds.report.format == "labelstudio"
    assert ds.report.conversion == {
        "records": 4, "tasks with several annotations (the most recent used)": 1, "spans": 6, "spans: kept": 6,
        "annotations cancelled (skipped)": 1, "tasks with no annotation (skipped)": 1,
        "Label Studio results that are not text spans (ignored)": 1,
    }
    assert "tasks with no annotation (skipped): labelstudio.json, task 3 (id 13): 'Nobody annotated this.'" in ds.report.examples
    assert [s.doc for s in ds.sentences] == [1, 2, 3]


def test_readers_labelstudio_annotator_by_id() -> None:
    ds = read_file(LS, annotator="1")
    assert [t for t in ds.sentences[0].tags] == ["B-PER", "O", "O", "O", "O", "O"]  # annotator 1 marked only Anna
    assert len(ds.sentences) == 3


def test_readers_labelstudio_annotator_by_email() -> None:
    ds = read_file(LS, annotator="Bea@Example.org")
    assert words_tags(ds) == [[("Anna", "B-PER"), ("met", "O"), ("Bob", "B-PER"), ("in", "O"), ("Rome", "B-LOC"), (".", "O")]]
    # task 2: bea's annotation was cancelled; task 4: bea never annotated it
    assert ds.report.conversion["tasks with no annotation by Bea@Example.org (skipped)"] == 2


def test_readers_labelstudio_unknown_annotator_is_an_error_with_the_counts() -> None:
    with pytest.raises(DataError) as err:
        read_file(LS, annotator="nobody")
    assert str(err.value).startswith("labelstudio.json: contains no sentences (")
    assert "tasks with no annotation by nobody (skipped) 3" in str(err.value)


def test_readers_labelstudio_bad_task(tmp_path: Path) -> None:
    path = tmp_path / "ls.json"
    path.write_text(json.dumps([{"id": 1, "data": {"text": "Hi Bob"}, "annotations": [
        {"id": 5, "result": [{"type": "labels", "value": {"start": 3, "end": 16, "labels": ["PER"]}}]}]}]))
    with pytest.raises(DataError) as err:
        read_file(path)
    assert str(err.value) == ("ls.json, task 1: span 1 [3, 16) 'PER': outside the text (6 characters); "
                              "expected 0 <= start <= end <= 6, the text's length")


def test_readers_labelstudio_text_key_other_than_text(tmp_path: Path) -> None:
    path = tmp_path / "ls.json"
    path.write_text(json.dumps([{"id": 1, "data": {"review": "Hi Bob", "stars": 3}, "annotations": [
        {"id": 5, "result": [{"type": "labels", "value": {"start": 3, "end": 6, "labels": ["PER", "X"]}}]}]}]))
    ds = read_file(path)
    assert words_tags(ds) == [[("Hi", "O"), ("Bob", "B-PER")]]
    assert ds.report.conversion["spans with several labels (the first used)"] == 1
