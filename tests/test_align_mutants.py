"""Gaps found by mutation testing of tagger/align.py (docs/TESTING.md): word shapes with an upper-case
first letter, windows that start mid-sentence and own only part of their words, and the error text."""

from __future__ import annotations

import pytest

from tagger.align import CASE_MIXED, CASE_PAD, CASE_TITLE, IGNORE, Window, build_window, casing_class, plan_windows

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("word", "shape"), [("McDonald", CASE_MIXED), ("PAris", CASE_MIXED), ("Ab", CASE_TITLE), ("X-ray", CASE_TITLE)])
def test_align_casing_title_needs_lower_case_after_the_first_letter(word: str, shape: int) -> None:
    assert casing_class(word) == shape


def test_align_build_window_mid_sentence_labels_only_its_owned_words() -> None:
    """A window over words 1..4 that owns 2..3: words 0 and 4 are not in it, words 1 and 4's
    neighbour 3 is context, and only the owned words carry labels and positions."""
    pieces = [[10], [11, 12], [13], [14], [15]]
    window = Window(start=1, end=4, own_start=2, own_end=3)
    ids, labels, cases, positions = build_window(pieces, window, 101, 102, 8, word_labels=[1, 2, 3, 4, 5], word_cases=[1, 2, 3, 4, 5])
    assert ids == [101, 11, 12, 13, 14, 102]
    assert labels == [IGNORE, IGNORE, IGNORE, 3, IGNORE, IGNORE]
    assert cases == [CASE_PAD, 2, 2, 3, 4, CASE_PAD]
    assert positions == [3]


def test_align_build_window_without_labels_or_shapes() -> None:
    """Prediction builds windows without labels, and a linear head without word shapes."""
    ids, labels, cases, positions = build_window([[7], [8, 9]], Window(0, 2, 0, 2), 101, 102, 8)
    assert (ids, positions) == ([101, 7, 8, 9, 102], [1, 2])
    assert labels == [IGNORE] * 5 and cases == [CASE_PAD] * 5


def test_align_plan_windows_refuses_an_empty_window_by_name() -> None:
    with pytest.raises(ValueError, match=r"^max_tokens must be >= 1$"):
        plan_windows([1, 2], 0)
