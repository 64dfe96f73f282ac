"""Sentences of words -> padded model batches. The one tokenization path for training,
evaluation and prediction."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import torch
from transformers import PreTrainedTokenizerBase

from .align import IGNORE, build_window, casing_class, plan_windows


@dataclass
class Feature:
    sentence: int  # index of the sentence in the input list
    words: range  # word indices owned by this window (one prediction each, in order)
    input_ids: list[int]
    labels: list[int]
    case_ids: list[int]
    positions: list[int]  # first sub-token position of each owned word


def word_pieces(tokenizer: PreTrainedTokenizerBase, sentences: Sequence[Sequence[str]]) -> list[list[list[int]]]:
    """Sub-token ids of every word, tokenized in sentence context (``is_split_into_words``).
    A word the tokenizer drops entirely (control or zero-width characters) becomes ``[UNK]``,
    so every word keeps a position and a label."""
    if not sentences:
        return []
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


def make_features(
    tokenizer: PreTrainedTokenizerBase,
    sentences: Sequence[Sequence[str]],
    max_length: int,
    label_ids: Sequence[Sequence[int]] | None = None,
    overlap: bool = True,
) -> list[Feature]:
    """Windows of at most ``max_length`` sub-tokens (incl. specials) for every sentence.
    Training uses ``overlap=False`` (windows tile each sentence); prediction overlaps windows
    so words near a cut still see context. No word is ever dropped."""
    cls, sep = special_ids(tokenizer)
    budget = max_length - 2
    feats: list[Feature] = []
    for s, pieces in enumerate(word_pieces(tokenizer, sentences)):
        cases = [casing_class(w) for w in sentences[s]]
        labels = label_ids[s] if label_ids is not None else None
        for win in plan_windows([len(p) for p in pieces], budget, overlap=overlap):
            ids, labs, case_ids, pos = build_window(pieces, win, cls, sep, budget, labels, cases)
            feats.append(Feature(s, range(win.own_start, win.own_end), ids, labs, case_ids, pos))
    return feats


def collate(feats: Sequence[Feature], pad_id: int) -> dict[str, torch.Tensor]:
    """Pad a batch to its own longest window (dynamic padding)."""
    width = max(len(f.input_ids) for f in feats)
    n = len(feats)
    input_ids = torch.full((n, width), pad_id, dtype=torch.long)
    labels = torch.full((n, width), IGNORE, dtype=torch.long)
    case_ids = torch.zeros((n, width), dtype=torch.long)
    mask = torch.zeros((n, width), dtype=torch.long)
    for i, f in enumerate(feats):
        k = len(f.input_ids)
        input_ids[i, :k] = torch.tensor(f.input_ids)
        labels[i, :k] = torch.tensor(f.labels)
        case_ids[i, :k] = torch.tensor(f.case_ids)
        mask[i, :k] = 1
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


def iter_batches(feats: Sequence[Feature], batch_size: int, pad_id: int) -> Iterator[tuple[list[Feature], dict[str, torch.Tensor]]]:
    """Inference batches sorted by length (so padding is minimal; results do not depend on order)."""
    for idx in length_batches([len(f.input_ids) for f in feats], batch_size, seed=None):
        group = [feats[i] for i in idx]
        yield group, collate(group, pad_id)
