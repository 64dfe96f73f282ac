"""Gaps found by mutation testing of tagger/metrics.py (docs/TESTING.md): plain labels on one side
only, repeated plain labels, a one-word corpus, seqeval's undefined-metric warnings, the error text."""

from __future__ import annotations

import warnings

import pytest

from tagger.metrics import score

pytestmark = pytest.mark.unit


def test_metrics_plain_gold_scores_per_word_whatever_the_prediction() -> None:
    """A POS file against a prediction that happens to be all O (a valid IOB2 sequence): per word."""
    s = score([["NN", "VB", "NN"]], [["NN", "O", "O"]])
    assert set(s["per_type"]) == {"NN", "VB"} and s["accuracy"] == pytest.approx(100 / 3)
    assert (s["precision"], s["recall"]) == (pytest.approx(100 / 3), pytest.approx(100 / 3))
    s = score([["O", "O"]], [["NN", "O"]])  # and the other way round
    assert set(s["per_type"]) == {"O"} and s["accuracy"] == 50.0


def test_metrics_plain_labels_count_every_occurrence() -> None:
    s = score([["NN", "NN", "VB", "NN"]], [["NN", "NN", "NN", "VB"]])
    nn, vb = s["per_type"]["NN"], s["per_type"]["VB"]
    assert (nn["support"], vb["support"]) == (3, 1)
    assert (nn["precision"], nn["recall"]) == (pytest.approx(200 / 3), pytest.approx(200 / 3))  # 2 of 3 predicted, 2 of 3 gold
    assert (vb["precision"], vb["recall"], vb["f1"]) == (0.0, 0.0, 0.0)
    assert s["f1"] == s["accuracy"] == 50.0  # micro F1 = accuracy for plain labels


def test_metrics_one_word_corpus() -> None:
    assert score([["O"]], [["O"]])["accuracy"] == 100.0
    assert score([["NN"]], [["NN"]])["accuracy"] == 100.0


def test_metrics_undefined_scores_are_zero_without_warnings() -> None:
    """A type never predicted (precision 0/0) or never in gold (recall 0/0) scores 0, silently:
    the CLI and the app show tables, not seqeval's UndefinedMetricWarning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = score([["B-PER", "O", "O"]], [["O", "O", "B-LOC"]])
    assert s["per_type"]["PER"]["precision"] == 0.0 and s["per_type"]["LOC"]["recall"] == 0.0
    assert s["f1"] == 0.0


def test_metrics_shape_error_says_what_differs() -> None:
    with pytest.raises(ValueError, match=r"^gold and predicted tags differ in shape$"):
        score([["O", "O"]], [["O"]])
