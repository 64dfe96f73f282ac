"""Constrained (Viterbi) decoding: well-formed IOB2 output, recorded in the config, argmax unchanged."""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path

import numpy as np
import pytest

from tagger.config import TrainConfig
from tagger.decode import transitions, viterbi
from tagger.model import load_tagger
from tagger.predict import Predictor


def _well_formed(tags: list[str]) -> bool:
    prev = "O"
    for t in tags:
        if t.startswith("I-") and prev[2:] != t[2:]:
            return False
        prev = t
    return True


@pytest.mark.unit
def test_decode_viterbi_is_well_formed_and_optimal_among_well_formed() -> None:
    labels = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
    allowed, start = transitions(labels)
    rng = np.random.default_rng(0)
    for _ in range(50):
        n = int(rng.integers(1, 6))
        lp = np.log(rng.dirichlet(np.ones(len(labels)), size=n)).astype(np.float32)
        path = viterbi(lp, allowed, start)
        assert _well_formed([labels[j] for j in path])
        best = max((p for p in np.ndindex(*(len(labels),) * n) if _well_formed([labels[j] for j in p])),
                   key=lambda p: sum(lp[t, j] for t, j in enumerate(p)))
        assert sum(lp[t, j] for t, j in enumerate(path)) == pytest.approx(sum(lp[t, j] for t, j in enumerate(best)), abs=1e-5)
    assert transitions(["NOUN", "VERB"]) is None  # plain labels: nothing to constrain
    with pytest.raises(Exception, match="decode"):
        TrainConfig(decode="crf")


def test_decode_predictor_uses_the_recorded_decoding(tiny_tagger: Path) -> None:
    tagger = load_tagger(tiny_tagger, device="cpu")
    assert tagger.config.decoding == "argmax"  # "auto" on the linear head
    vit = Predictor(dataclasses.replace(tagger, config=tagger.config.replace(decode="viterbi")))
    arg = Predictor(tagger)
    rng = random.Random(1)
    vocab = ["Angela", "Merkel", "visited", "Paris", "John", "lives", "in", "Berlin", "now", "."]
    sents = [[rng.choice(vocab) for _ in range(rng.randint(1, 30))] for _ in range(40)]
    for a, v in zip(arg.tag_words(sents), vit.tag_words(sents)):
        assert _well_formed([label for label, _ in v])
        if _well_formed([label for label, _ in a]):  # nothing to repair: the same labels
            assert [label for label, _ in a] == [label for label, _ in v]
