"""Tokenizer and model classes for a bert-tagger checkpoint with the casing head (load with
trust_remote_code=True). The tokenizer emits each token's word-shape class (of the
whitespace-separated chunk of the original text it sits in, or of the word given with
is_split_into_words=True) as token_type_ids, plus SHAPES at the first token of each word; the
model is a BertForTokenClassification whose token-type embedding holds each word-shape row twice
and which, when config.tagger_decode is "viterbi", picks the best IOB2-well-formed label
sequence over the words' first tokens (as the bert-tagger Predictor does) and raises each
chosen label to the top of that token's logits."""

import bisect
import re
from collections.abc import Sequence

import numpy as np
from transformers import BertConfig, BertForTokenClassification

try:
    from transformers import BertTokenizerFast as _BertTokenizer
except ImportError:  # pragma: no cover
    from transformers import BertTokenizer as _BertTokenizer

_CHUNK = re.compile(r"\S+")
SHAPES = 9


OUTSIDE = 'O'
_PREFIXED = re.compile('([BIESLU])-(.*)', re.DOTALL)


def split_tag(tag: str) -> tuple[str, str]:
    """Split a tag into (prefix, type). ``O`` has neither; a plain label has no prefix.

    >>> split_tag("B-PER")
    ('B', 'PER')
    >>> split_tag("O")
    ('O', '')
    >>> split_tag("NNP")
    ('', 'NNP')
    """
    if tag == OUTSIDE:
        return OUTSIDE, ""
    m = _PREFIXED.fullmatch(tag)
    if m:
        return m.group(1), m.group(2)
    return "", tag


def transitions(labels: Sequence[str]) -> tuple[np.ndarray, np.ndarray] | None:
    """(allowed[prev, next], allowed_at_start) for IOB2 labels, or None for plain labels.

    >>> allowed, start = transitions(["O", "B-PER", "I-PER"])
    >>> allowed.astype(int).tolist(), start.astype(int).tolist()
    ([[1, 1, 0], [1, 1, 1], [1, 1, 1]], [1, 1, 0])
    """
    parsed = [split_tag(label) for label in labels]
    if not any(prefix == "I" for prefix, _ in parsed):
        return None
    n = len(labels)
    allowed = np.ones((n, n), dtype=bool)
    start = np.ones(n, dtype=bool)
    for j, (prefix, kind) in enumerate(parsed):
        if prefix == "I":  # I-X only after B-X or I-X
            start[j] = False
            for i, prev in enumerate(parsed):
                allowed[i, j] = prev in (("B", kind), ("I", kind))
    return allowed, start


def viterbi(logp: np.ndarray, allowed: np.ndarray, start: np.ndarray) -> list[int]:
    """Best label sequence under the constraints (``logp``: [words, labels] log-probabilities).

    >>> lp = np.log(np.array([[0.5, 0.4, 0.1], [0.1, 0.1, 0.8]]))  # argmax: O, I-PER (ill-formed)
    >>> viterbi(lp, *transitions(["O", "B-PER", "I-PER"]))
    [1, 2]
    """
    n_words = logp.shape[0]
    if n_words == 0:
        return []
    neg = np.float32(-1e30)
    penalty = np.where(allowed, 0.0, neg).astype(np.float32)
    score = np.where(start, logp[0], neg)
    back = np.zeros((n_words, logp.shape[1]), dtype=np.int64)
    for t in range(1, n_words):
        cand = score[:, None] + penalty  # [prev, next]
        back[t] = cand.argmax(0)
        score = cand.max(0) + logp[t]
    path = [int(score.argmax())]
    for t in range(n_words - 1, 0, -1):
        path.append(int(back[t, path[-1]]))
    return path[::-1]



def casing_class(word):
    """Same classes as tagger.align.casing_class (0 = special tokens and padding)."""
    letters = [c for c in word if c.isalpha()]
    has_digit = any(c.isdigit() for c in word)
    if not letters:
        return 5 if has_digit else 6
    if has_digit:
        return 7
    if all(c.islower() for c in letters):
        return 1
    if all(c.isupper() for c in letters):
        return 3
    if letters[0].isupper() and all(c.islower() for c in letters[1:]):
        return 2
    return 4


class TaggerCasingConfig(BertConfig):
    model_type = "tagger_casing_bert"


class TaggerCasingForTokenClassification(BertForTokenClassification):
    config_class = TaggerCasingConfig

    def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, labels=None, **kwargs):
        out = super().forward(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids,
                              labels=labels, **kwargs)
        if labels is None and token_type_ids is not None and getattr(self.config, "tagger_decode", "argmax") == "viterbi":
            if isinstance(out, tuple):  # return_dict=False
                return (_constrained(out[0], token_type_ids >= SHAPES, self.config.id2label), *out[1:])
            out.logits = _constrained(out.logits, token_type_ids >= SHAPES, self.config.id2label)
        return out


def _constrained(logits, starts, id2label):
    """Logits whose argmax at each word's first token is the best well-formed IOB2 sequence."""
    labels = [id2label[i] for i in range(logits.shape[-1])]
    rules = transitions(labels)
    if rules is None:
        return logits
    out = logits.clone()
    values = logits.detach().float().cpu().numpy()
    for b in range(values.shape[0]):
        pos = starts[b].nonzero().flatten().tolist()
        if not pos:
            continue
        picked = values[b, pos]
        shifted = picked - picked.max(-1, keepdims=True)
        logp = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
        for p, j in zip(pos, viterbi(logp, *rules)):
            row = out[b, p]
            if int(row.argmax()) != j:
                row[j] = row.max() + 1.0
    return out


class TaggerCasingTokenizer(_BertTokenizer):
    def __call__(self, text=None, text_pair=None, *args, **kwargs):
        if text_pair is not None or args or kwargs.get("text_target") is not None:
            raise ValueError("this tagger's tokenizer takes single texts (its token types hold word shapes)")
        tensors = kwargs.pop("return_tensors", None)
        want_offsets = kwargs.pop("return_offsets_mapping", False)
        split = kwargs.get("is_split_into_words", False)
        enc = super().__call__(text, return_offsets_mapping=True, **kwargs)
        batched = isinstance(text, (list, tuple)) and (not split or (len(text) > 0 and isinstance(text[0], (list, tuple))))
        texts = list(text) if batched else [text]
        offsets = enc["offset_mapping"] if batched else [enc["offset_mapping"]]
        sample = enc.get("overflow_to_sample_mapping") or list(range(len(offsets)))
        types = []
        for i, offs in enumerate(offsets):
            t = texts[sample[i]]
            wids = enc.word_ids(i)
            if split:
                shapes = [casing_class(w) for w in t]
                types.append([0 if w is None else shapes[w] + SHAPES * (w != wids[j - 1] if j else 1)
                              for j, w in enumerate(wids)])
                continue
            chunks = [(m.start(), m.end(), casing_class(m.group())) for m in _CHUNK.finditer(t)]
            starts = [c[0] for c in chunks]
            row, last = [], -1
            for w, (s, _e) in zip(wids, offs):
                k = bisect.bisect_right(starts, s) - 1
                if w is None or k < 0 or s >= chunks[k][1]:
                    row.append(0)
                else:  # the chunk's first token (the pipeline's word start) carries + SHAPES
                    row.append(chunks[k][2] + SHAPES * (k != last))
                    last = k
            types.append(row)
        enc["token_type_ids"] = types if batched else types[0]
        if not want_offsets:
            del enc["offset_mapping"]
        if tensors is not None:
            enc.convert_to_tensors(tensor_type=tensors, prepend_batch_axis=not batched)
        return enc
