"""Gaps found by mutation testing of tagger/decode.py (docs/TESTING.md): the constraint masks are
boolean arrays (callers index and negate them), over several entity types."""

from __future__ import annotations

import numpy as np
import pytest

from tagger.decode import transitions, viterbi

pytestmark = pytest.mark.unit


def test_decode_transitions_are_boolean_masks_over_types() -> None:
    labels = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
    constraints = transitions(labels)
    assert constraints is not None
    allowed, start = constraints
    assert allowed.dtype == np.bool_ and start.dtype == np.bool_
    assert allowed.shape == (5, 5) and start.shape == (5,)
    assert start.tolist() == [True, True, False, True, False]
    # I-PER only after B-PER or I-PER; I-LOC only after B-LOC or I-LOC; anything else anywhere
    assert allowed[:, 2].tolist() == [False, True, True, False, False]
    assert allowed[:, 4].tolist() == [False, False, False, True, True]
    assert allowed[:, [0, 1, 3]].all()
    assert transitions(["NN", "VB"]) is None  # plain labels: nothing to constrain


def test_decode_viterbi_switches_type_through_a_b_tag() -> None:
    """The argmax I-PER, I-LOC is ill-formed twice; the best well-formed path starts each entity."""
    labels = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
    probs = np.array([[0.1, 0.3, 0.4, 0.1, 0.1], [0.1, 0.1, 0.1, 0.3, 0.4]])
    path = viterbi(np.log(probs), *transitions(labels))  # type: ignore[misc]
    assert [labels[i] for i in path] == ["B-PER", "B-LOC"]
    assert all(isinstance(i, int) for i in path)
