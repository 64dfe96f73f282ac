"""Prediction from raw text: batching, windows, offsets, immutability, and the text edge cases
of issue #5 (each gives a correct result or a clear InputError)."""

from __future__ import annotations

import copy
import dataclasses
import random
from pathlib import Path

import pytest
import torch

from tagger.model import load_tagger
from tagger.predict import MAX_TEXT_CHARS, InputError, Prediction, Predictor, _prediction, split_sentences, split_words


@pytest.fixture(scope="module")
def predictor(tiny_tagger: Path) -> Predictor:
    return Predictor(load_tagger(tiny_tagger), max_length=64, batch_size=16)


def visible(c: str) -> bool:
    return c.isprintable() and not c.isspace()


def check_prediction(pred: Prediction, text: str, labels: list[str]) -> None:
    """Offsets map back to the text, words are in order, every visible character is in a word,
    labels are the model's, entities are spans of words."""
    assert pred.text == text
    covered = set()
    prev_end = 0
    for w in pred.words:
        assert text[w.start : w.end] == w.text
        assert w.start >= prev_end and w.end > w.start
        prev_end = w.end
        assert w.label in labels
        assert 0.0 <= w.score <= 1.0
        assert any(visible(c) for c in w.text)
        covered.update(range(w.start, w.end))
    missing = [i for i, c in enumerate(text) if visible(c) and i not in covered]
    assert not missing, f"visible characters without a word: {[text[i] for i in missing[:10]]}"
    for e in pred.entities:
        assert text[e.start : e.end] == e.text
        assert e.label in {label.split("-", 1)[-1] for label in labels}
        assert any(w.start == e.start for w in pred.words) and any(w.end == e.end for w in pred.words)


def test_predict_finds_trained_entities(predictor: Predictor) -> None:
    text = "Angela Merkel visited Paris today ."
    pred = predictor.predict(text)
    check_prediction(pred, text, predictor.labels)
    assert [(e.text, e.label) for e in pred.entities] == [("Angela Merkel", "PER"), ("Paris", "LOC")]
    d = pred.to_dict()
    assert set(d) == {"text", "words", "entities"} and d["words"][0]["text"] == "Angela"


def test_predict_batch_equals_one_by_one(predictor: Predictor) -> None:
    rng = random.Random(3)
    vocab = ["Angela", "Merkel", "visited", "Paris", "today", ".", "John", "lives", "in", "Berlin", "now", "and", "the"]
    texts = [" ".join(rng.choice(vocab) for _ in range(n)) for n in (1, 3, 7, 20, 90, 2, 150, 0, 40)]
    batch = predictor.predict_batch(texts)
    assert len(batch) == len(texts)
    for text, got in zip(texts, batch):
        alone = predictor.predict(text)
        assert [w.label for w in got.words] == [w.label for w in alone.words]
        assert [(w.start, w.end) for w in got.words] == [(w.start, w.end) for w in alone.words]
        assert [w.score for w in got.words] == pytest.approx([w.score for w in alone.words], abs=1e-5)
        assert [(e.start, e.end, e.label) for e in got.entities] == [(e.start, e.end, e.label) for e in alone.entities]
    # batch size does not matter either
    small = Predictor(predictor.tagger, max_length=64, batch_size=1).predict_batch(texts)
    for a, b in zip(batch, small):
        assert [w.label for w in a.words] == [w.label for w in b.words]


def test_predict_each_sentence_is_tagged_within_its_text(predictor: Predictor) -> None:
    """A text is one document: its sentences are tagged as ``tag_words`` tags them with one
    document id (document context), or each alone for a tagger trained without context."""
    first, second = "Angela Merkel visited Paris today .", "John lives in Berlin now ."
    text = f"{first} {second}\n\nParis"
    sents = [first.split(), second.split(), ["Paris"]]
    assert [[w for w, _, _ in s] for s in split_sentences(text)] == sents
    cfg = predictor.tagger.config
    predictor = Predictor(dataclasses.replace(predictor.tagger, config=cfg.replace(doc_context=True)))
    pred = predictor.predict(text)
    check_prediction(pred, text, predictor.labels)
    in_doc = predictor.tag_words(sents, docs=[0, 0, 0])
    assert [(w.label, w.score) for w in pred.words] == [tag for sent in in_doc for tag in sent]
    plain = Predictor(dataclasses.replace(predictor.tagger, config=cfg.replace(doc_context=False)))
    alone = plain.tag_words(sents)
    assert [(w.label, w.score) for w in plain.predict(text).words] == [tag for sent in alone for tag in sent]
    assert alone == predictor.tag_words(sents)  # no document ids: each sentence alone
    whole = Predictor(predictor.tagger, max_length=64, batch_size=16, sentences=False).predict(text)
    assert [w.text for w in whole.words] == [w.text for w in pred.words]  # same words, one sequence


def test_predict_entities_stop_at_sentence_ends() -> None:
    text = "in Paris . London"
    words = [("in", 0, 2), ("Paris", 3, 8), (".", 9, 10), ("London", 11, 17)]
    tags = [("O", 0.9), ("B-LOC", 0.9), ("I-LOC", 0.5), ("I-LOC", 0.7)]
    spans = [(e.text, e.label) for e in _prediction(text, words, tags, [3, 4]).entities]
    assert spans == [("Paris .", "LOC"), ("London", "LOC")]
    assert [(e.text, e.label) for e in _prediction(text, words, tags).entities] == [("Paris . London", "LOC")]


def test_predict_long_text_labels_every_word(predictor: Predictor) -> None:
    rng = random.Random(5)
    vocab = ["Angela", "Merkel", "visited", "Paris", "today", "John", "lives", "in", "Berlin", "now", "Konstantinopel"]
    words = [rng.choice(vocab) for _ in range(5000)]
    text = " ".join(words)
    pred = predictor.predict(text)
    assert len(pred.words) == 5000
    assert [w.text for w in pred.words] == words
    check_prediction(pred, text, predictor.labels)
    assert predictor.max_length == 64  # so the text is cut into well over 100 windows


def test_predict_tag_words_windows_match_short_input(predictor: Predictor) -> None:
    sent = ["Angela", "Merkel", "visited", "Paris", "today", "."]
    long = sent * 50
    tags = predictor.tag_words([sent, long, []])
    assert len(tags[1]) == len(long) and tags[2] == []
    assert [label for label, _ in tags[0]] == ["B-PER", "I-PER", "O", "B-LOC", "O", "O"]


@pytest.mark.filterwarnings("ignore:torch.ao.quantization is deprecated:DeprecationWarning")
@pytest.mark.filterwarnings("ignore:torch.quantize_per_tensor:UserWarning")
def test_predict_mutates_nothing(predictor: Predictor) -> None:
    model = predictor.tagger.model
    state = {k: v.clone() for k, v in model.state_dict().items()}
    training = model.training
    config, labels = predictor.tagger.config, list(predictor.labels)
    texts = ["Angela Merkel visited Paris today .", "John lives in Berlin now"]
    texts_copy = list(texts)
    sentences = [["John", "lives"], ["Paris"]]
    sentences_copy = copy.deepcopy(sentences)
    predictor.predict_batch(texts)
    predictor.tag_words(sentences)
    Predictor(predictor.tagger, quantize=True).predict_batch(texts)
    assert texts == texts_copy and sentences == sentences_copy
    after = model.state_dict()
    assert state.keys() == after.keys()
    assert all(torch.equal(state[k], after[k]) for k in state)
    assert model.training == training and not any(p.grad is not None for p in model.parameters())
    assert predictor.tagger.config == config and predictor.labels == labels
    assert all(type(m).__name__ != "DynamicQuantizedLinear" for m in model.modules())


@pytest.mark.filterwarnings("ignore:torch.ao.quantization is deprecated:DeprecationWarning")
@pytest.mark.filterwarnings("ignore:torch.quantize_per_tensor:UserWarning")
def test_predict_quantized_agrees_on_training_sentences(predictor: Predictor) -> None:
    q = Predictor(predictor.tagger, max_length=64, quantize=True)
    text = "John lives in Berlin now"
    assert [w.label for w in q.predict(text).words] == [w.label for w in predictor.predict(text).words]


EDGE_CASES = {
    "empty": "",
    "whitespace": "  \n\t \r\n  ",
    "emoji": "I ❤️ Paris 😀🎉 and 👩‍👩‍👧 Angela Merkel 🇩🇪 .",
    "arabic": "زار أنجيلا ميركل باريس اليوم .",
    "hebrew": "John visited ירושלים today , שלום עולם",
    "cjk": "東京は日本の首都です。Angela Merkel 访问了北京",
    "combining": "Cafe\u0301 in Zu\u0308rich and Ange\u0301la Merkel",
    "zero-width": "Paris\u200bBerlin \u200b John\u200d lives \ufeff in \u200b\u200b Berlin",
    "control": "John\x00 visited\x07 Paris \x1b[31m today\x08 . \x7f",
    "html": '<script>alert("Angela Merkel")</script> <b>Paris</b> &amp; John',
    "newlines": "Angela Merkel\n\nvisited\r\nParis\ttoday .",
    "one-char": "x",
    "punctuation": "...!!!???---",
    "rtl-mark": "\u202eParis\u202c John \u200fBerlin",
}


@pytest.mark.parametrize("text", list(EDGE_CASES.values()), ids=list(EDGE_CASES))
def test_predict_text_edge_cases(predictor: Predictor, text: str) -> None:
    pred = predictor.predict(text)
    check_prediction(pred, text, predictor.labels)
    assert pred == predictor.predict_batch([text, "John lives in Berlin now"])[0]


def test_predict_empty_and_whitespace_have_no_words(predictor: Predictor) -> None:
    for text in ("", "   \n\t"):
        pred = predictor.predict(text)
        assert pred.words == () and pred.entities == ()


def test_predict_100k_characters(predictor: Predictor) -> None:
    text = ("Angela Merkel visited Paris today . John lives in Berlin now . " * 1600)[:100_000]
    assert len(text) == 100_000
    pred = predictor.predict(text)
    assert len(pred.words) == len(text.split())
    check_prediction(pred, text, predictor.labels)


def test_predict_over_the_limit_is_an_input_error(predictor: Predictor) -> None:
    with pytest.raises(InputError, match="limit is 200,000"):
        predictor.predict("a" * (MAX_TEXT_CHARS + 1))
    with pytest.raises(InputError, match="limit"):
        predictor.predict_batch(["fine", "b " * MAX_TEXT_CHARS])
    with pytest.raises(InputError, match="expected text, got bytes"):
        predictor.predict(b"Paris")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="got NoneType"):
        predictor.predict_batch(["Paris", None])  # type: ignore[list-item]


def test_predict_split_words_offsets() -> None:
    text = "Dr. Smith's e-mail: smith@example.com (2024)!"
    words = split_words(text)
    assert all(text[s:e] == w for w, s, e in words)
    assert [w for w, _, _ in words][:3] == ["Dr.", "Smith", "'s"]
    assert split_words("a \u200b b") == [("a", 0, 1), ("b", 4, 5)]
