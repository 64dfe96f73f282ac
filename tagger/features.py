"""Sentences of words -> padded model batches. The one tokenization path for training,
evaluation and prediction."""

from __future__ import annotations

import random
import weakref
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate

import torch
from transformers import PreTrainedTokenizerBase

from .align import CASE_PAD, CASE_UNKNOWN, IGNORE, build_window, casing_class, plan_windows
from .doc_context import plan_context


@dataclass
class Feature:
    sentence: int  # index of the sentence in the input list
    words: range  # word indices owned by this window (one prediction each, in order)
    input_ids: list[int]
    labels: list[int]
    case_ids: list[int]
    positions: list[int]  # first sub-token position of each owned word
    parts: tuple[tuple[int, range], ...] = ()  # with document context: every (sentence, words) owned, in order

    def owned(self) -> tuple[tuple[int, range], ...]:
        """(sentence, word indices) this window predicts, in the order of ``positions``."""
        return self.parts or ((self.sentence, self.words),)


_PROBE = ["Hello", "world", "U.S.", "naïve", "don't", "2,000", "New-York", "\u200b", "日本語", "xyzzyq", "."]


class _WordEncoder:
    """A private copy of a fast tokenizer's Rust backend, without the padding/truncation a
    ``tokenizer.json`` may carry, that tokenizes each distinct word once.

    Pre-split words are tokenized one by one when that gives the same sub-tokens as tokenizing
    the words together (``is_split_into_words``): true for WordPiece and byte-level BPE with a
    prefix space, checked once per tokenizer on a probe sentence. Otherwise whole sentences are
    encoded. Either way the result equals ``tokenizer(words, is_split_into_words=True)``.
    """

    CACHE_WORDS = 1 << 16  # distinct words kept: bounded memory (size in docs/BENCHMARKS.md)

    def __init__(self, tokenizer: PreTrainedTokenizerBase) -> None:
        from tokenizers import Tokenizer

        backend = tokenizer.backend_tokenizer  # type: ignore[attr-defined]
        self.backend = Tokenizer.from_str(backend.to_str())
        self.backend.no_padding()
        self.backend.no_truncation()
        self.size = len(tokenizer)
        self.unk = tokenizer.unk_token_id if tokenizer.unk_token_id is not None else 0
        self.cache: dict[str, list[int]] = {}
        self.per_word = self._in_context([_PROBE]) == self._by_word([_PROBE])

    def _in_context(self, sentences: Sequence[Sequence[str]]) -> list[list[list[int]]]:
        out: list[list[list[int]]] = []
        for words, enc in zip(sentences, self.backend.encode_batch([list(s) for s in sentences], is_pretokenized=True, add_special_tokens=False)):
            pieces: list[list[int]] = [[] for _ in words]
            for tok, wid in zip(enc.ids, enc.word_ids):
                if wid is not None:
                    pieces[wid].append(tok)
            out.append([p or [self.unk] for p in pieces])
        return out

    def _by_word(self, sentences: Sequence[Sequence[str]]) -> list[list[list[int]]]:
        # each distinct word goes to the Rust tokenizer once per encoder (as spaCy's tokenizer
        # caches words): known words skip tokenization, most of one short sentence's cost (docs/BENCHMARKS.md)
        cache = self.cache
        table = {w: cache.get(w) for s in sentences for w in s}
        missing = [w for w, ids in table.items() if ids is None]
        if missing:
            if len(cache) + len(missing) > self.CACHE_WORDS:
                cache.clear()  # bounded memory; the common words come back at once
            encoded = self.backend.encode_batch([[w] for w in missing], is_pretokenized=True, add_special_tokens=False)
            for w, e in zip(missing, encoded):
                table[w] = e.ids or [self.unk]
                if len(cache) < self.CACHE_WORDS:
                    cache[w] = table[w]
        return [[table[w] for w in s] for s in sentences]  # type: ignore[misc]

    def __call__(self, sentences: Sequence[Sequence[str]]) -> list[list[list[int]]]:
        return self._by_word(sentences) if self.per_word else self._in_context(sentences)


_ENCODERS: weakref.WeakKeyDictionary[PreTrainedTokenizerBase, _WordEncoder] = weakref.WeakKeyDictionary()


def _word_encoder(tokenizer: PreTrainedTokenizerBase) -> _WordEncoder | None:
    if getattr(tokenizer, "backend_tokenizer", None) is None:
        return None
    enc = _ENCODERS.get(tokenizer)
    if enc is None or enc.size != len(tokenizer):  # rebuilt if tokens were added since
        enc = _ENCODERS[tokenizer] = _WordEncoder(tokenizer)
    return enc


def word_pieces(tokenizer: PreTrainedTokenizerBase, sentences: Sequence[Sequence[str]]) -> list[list[list[int]]]:
    """Sub-token ids of every word, as tokenized in sentence context (``is_split_into_words``).
    A word the tokenizer drops entirely (control or zero-width characters) becomes ``[UNK]``,
    so every word keeps a position and a label. The lists may be shared between equal words
    and across calls (a per-tokenizer word cache): treat them as read-only."""
    if not sentences:
        return []
    encoder = _word_encoder(tokenizer)
    if encoder is not None:
        return encoder(sentences)
    enc = tokenizer([list(s) for s in sentences], is_split_into_words=True, add_special_tokens=False)
    unk = tokenizer.unk_token_id if tokenizer.unk_token_id is not None else 0
    out: list[list[list[int]]] = []
    for i, words in enumerate(sentences):
        pieces: list[list[int]] = [[] for _ in words]
        for tok, wid in zip(enc["input_ids"][i], enc.word_ids(i)):
            if wid is not None:
                pieces[wid].append(tok)
        out.append([p or [unk] for p in pieces])
    return out


def special_ids(tokenizer: PreTrainedTokenizerBase) -> tuple[int, int]:
    cls = tokenizer.cls_token_id if tokenizer.cls_token_id is not None else tokenizer.bos_token_id
    sep = tokenizer.sep_token_id if tokenizer.sep_token_id is not None else tokenizer.eos_token_id
    if cls is None or sep is None:
        raise ValueError("tokenizer has neither [CLS]/[SEP] nor <s>/</s> tokens")
    return cls, sep


_casing = lru_cache(maxsize=1 << 16)(casing_class)


def make_features(
    tokenizer: PreTrainedTokenizerBase,
    sentences: Sequence[Sequence[str]],
    max_length: int,
    label_ids: Sequence[Sequence[int]] | None = None,
    overlap: bool = True,
    docs: Sequence[int] | None = None,
    context: int = 0,
    hide_case: Sequence[bool] | None = None,
) -> list[Feature]:
    """Windows of at most ``max_length`` sub-tokens (incl. specials) for every sentence.
    Training uses ``overlap=False`` (windows tile each sentence); prediction overlaps windows
    so words near a cut still see context. No word is ever dropped.

    With ``context`` > 0 and ``docs`` (a document id per sentence), sentences of one document
    are read with up to ``context`` sub-tokens of their neighbours on each side
    (:mod:`tagger.doc_context`); labels and predictions stay on the owned sentences only.
    ``hide_case[s]`` shows sentence ``s``'s word shapes as ``CASE_UNKNOWN`` (training augmentation)."""
    cls, sep = special_ids(tokenizer)
    budget = max_length - 2
    feats: list[Feature] = []
    all_pieces = word_pieces(tokenizer, sentences)
    all_cases = [[CASE_UNKNOWN] * len(words) if hide_case is not None and hide_case[s] else [_casing(w) for w in words]
                 for s, words in enumerate(sentences)]
    if context > 0 and docs is not None:
        return _context_features(all_pieces, all_cases, label_ids, docs, budget, context, cls, sep, overlap)
    for s, pieces in enumerate(all_pieces):
        cases = all_cases[s]
        labels = label_ids[s] if label_ids is not None else None
        counts = [len(p) for p in pieces]
        if sum(counts) <= budget:  # the usual case: one window holding the whole sentence
            feats.append(_whole_sentence(s, pieces, counts, cls, sep, labels, cases))
            continue
        for win in plan_windows(counts, budget, overlap=overlap):
            ids, labs, case_ids, pos = build_window(pieces, win, cls, sep, budget, labels, cases)
            feats.append(Feature(s, range(win.own_start, win.own_end), ids, labs, case_ids, pos))
    return feats


def _context_features(
    all_pieces: list[list[list[int]]],
    all_cases: list[list[int]],
    label_ids: Sequence[Sequence[int]] | None,
    docs: Sequence[int],
    budget: int,
    context: int,
    cls: int,
    sep: int,
    overlap: bool,
) -> list[Feature]:
    """Features of :func:`tagger.doc_context.plan_context` windows: context words carry their
    sub-tokens and shapes but never a label or a prediction."""
    feats: list[Feature] = []
    for win in plan_context([[len(p) for p in pieces] for pieces in all_pieces], docs, budget, context):
        if win.split:  # a sentence longer than the window: cut as without context
            s = win.owned[0]
            labels = label_ids[s] if label_ids is not None else None
            for w in plan_windows([len(p) for p in all_pieces[s]], budget, overlap=overlap):
                ids, labs, case_ids, pos = build_window(all_pieces[s], w, cls, sep, budget, labels, all_cases[s])
                feats.append(Feature(s, range(w.own_start, w.own_end), ids, labs, case_ids, pos))
            continue
        ids, labs, case_ids, positions = [cls], [IGNORE], [CASE_PAD], []
        words = [(s, w, None) for s, w in win.left]
        words += [(s, w, label_ids[s][w] if label_ids is not None else IGNORE) for s in win.owned for w in range(len(all_pieces[s]))]
        words += [(s, w, None) for s, w in win.right]
        for s, w, label in words:  # context words (label None) get neither a label nor a prediction
            pieces = all_pieces[s][w][:budget]
            if label is not None:
                positions.append(len(ids))
            ids.extend(pieces)
            labs.extend([IGNORE if label is None else label] + [IGNORE] * (len(pieces) - 1))
            case_ids.extend([all_cases[s][w]] * len(pieces))
        ids.append(sep)
        labs.append(IGNORE)
        case_ids.append(CASE_PAD)
        parts = tuple((s, range(len(all_pieces[s]))) for s in win.owned)
        feats.append(Feature(win.owned[0], parts[0][1], ids, labs, case_ids, positions, parts if len(parts) > 1 else ()))
    return feats


def _whole_sentence(
    s: int, pieces: list[list[int]], counts: list[int], cls: int, sep: int, labels: Sequence[int] | None, cases: list[int]
) -> Feature:
    """What ``build_window`` gives for a window owning every word, built with fewer Python steps."""
    ids = [cls]
    for p in pieces:
        ids += p
    ids.append(sep)
    positions = list(accumulate(counts[:-1], initial=1))
    case_ids = [CASE_PAD]
    for c, n in zip(cases, counts):
        case_ids += [c] * n
    case_ids.append(CASE_PAD)
    if labels is None:
        labs = [IGNORE] * len(ids)
    else:
        labs = [IGNORE] * len(ids)
        for p, lab in zip(positions, labels):
            labs[p] = lab
    return Feature(s, range(len(pieces)), ids, labs, case_ids, positions)


def collate(feats: Sequence[Feature], pad_id: int) -> dict[str, torch.Tensor]:
    """Pad a batch to its own longest window (dynamic padding)."""
    width = max(len(f.input_ids) for f in feats)
    pads = [width - len(f.input_ids) for f in feats]
    input_ids = torch.tensor([f.input_ids + [pad_id] * k for f, k in zip(feats, pads)], dtype=torch.long)
    labels = torch.tensor([f.labels + [IGNORE] * k for f, k in zip(feats, pads)], dtype=torch.long)
    case_ids = torch.tensor([f.case_ids + [CASE_PAD] * k for f, k in zip(feats, pads)], dtype=torch.long)
    mask = torch.tensor([[1] * (width - k) + [0] * k for k in pads], dtype=torch.long)
    return {"input_ids": input_ids, "attention_mask": mask, "case_ids": case_ids, "labels": labels}


def length_batches(lengths: Sequence[int], batch_size: int, seed: int | None, pool: int = 50) -> list[list[int]]:
    """Group indices into batches of similar length, so dynamic padding wastes little.

    With a seed (training) the order is shuffled, sorted by length only inside pools of
    ``pool`` batches, and the batches are shuffled, so each epoch differs but stays bucketed.
    Without a seed (inference) everything is sorted by length.

    >>> length_batches([5, 1, 4, 2], 2, seed=None)
    [[1, 3], [2, 0]]
    """
    order = list(range(len(lengths)))
    if seed is None:
        order.sort(key=lambda i: lengths[i])
        return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    rng = random.Random(seed)
    rng.shuffle(order)
    chunk = batch_size * pool
    batches: list[list[int]] = []
    for c in range(0, len(order), chunk):
        group = sorted(order[c : c + chunk], key=lambda i: lengths[i])
        batches += [group[i : i + batch_size] for i in range(0, len(group), batch_size)]
    rng.shuffle(batches)
    return batches


def inference_batches(lengths: Sequence[int], batch_size: int, max_padding: float = 0.02) -> list[list[int]]:
    """Indices sorted by length, cut into batches of at most ``batch_size`` whose padding stays
    within ``max_padding`` of their real tokens: mostly windows of one exact length, so the
    model computes (almost) no padding at all.

    >>> inference_batches([5, 1, 4, 2, 5, 5], 2)
    [[1], [3], [2], [0, 4], [5]]
    """
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    batches: list[list[int]] = []
    batch: list[int] = []
    real = 0
    for i in order:
        n = lengths[i]
        if batch and (len(batch) == batch_size or n * (len(batch) + 1) > (real + n) * (1 + max_padding)):
            batches.append(batch)
            batch, real = [], 0
        batch.append(i)
        real += n
    if batch:
        batches.append(batch)
    return batches


def iter_batches(feats: Sequence[Feature], batch_size: int, pad_id: int) -> Iterator[tuple[list[Feature], dict[str, torch.Tensor]]]:
    """Inference batches sorted by length (so padding is minimal; results do not depend on order)."""
    for idx in inference_batches([len(f.input_ids) for f in feats], batch_size):
        group = [feats[i] for i in idx]
        yield group, collate(group, pad_id)
