"""Export parity: a saved tagger gives the same word labels in ``transformers.pipeline`` as in
:class:`tagger.predict.Predictor`, or says loudly that it cannot.

The casing head adds a learned word-shape embedding to every sub-token's input. BERT already
adds one learned vector per *token type* there, so at save time the casing embedding is folded
into a resized token-type embedding (row ``c`` = the base's type-0 row + the casing row ``c``),
and the checkpoint ships a tokenizer that emits each token's word-shape class as its
``token_type_ids``, computed from the original-case text (``tagger_casing.py``, loaded with
``trust_remote_code=True``). The encoder then computes exactly what our model computes.
The rows are stored twice: type ``c + N`` (same vector) marks the first token of a word, so
that a tagger that decodes with IOB2 constraints (``decode="viterbi"``) does the same inside
the shipped model class, over the same words, and the pipeline's argmax reads its labels. The
checkpoint's ``model_type`` is custom, so loading it without ``trust_remote_code=True`` fails
with transformers' own message instead of silently running without the casing signal.

Where folding is impossible (an encoder without token types, a non-BERT tokenizer) the casing
embedding stays in ``casing.safetensors``, :func:`save_tagger` warns, and the checkpoint's
README says the pipeline cannot reproduce it; ``--head linear`` is the exact choice there.

In the pipeline a word's shape is that of the whitespace-separated chunk it sits in; our
Predictor uses spaCy's words. The two agree on text whose words are separated by spaces (as in
CoNLL files); for "Merkel's" the pipeline's "'s" is Title-cased, ours lowercase.
"""

from __future__ import annotations

import inspect
import json
import warnings
from pathlib import Path
from typing import Any

import torch

REMOTE_FILE = "tagger_casing.py"
README_FILE = "README.md"
MODEL_TYPE = "tagger_casing_bert"
CASING_IN_TYPES = "token_type_ids"  # meta["casing_in"] of a folded checkpoint


def _type_embedding(hf: torch.nn.Module) -> torch.nn.Embedding | None:
    for name, module in hf.named_modules():
        if name.endswith("embeddings") and isinstance(getattr(module, "token_type_embeddings", None), torch.nn.Embedding):
            return module.token_type_embeddings
    return None


def can_fold(model: Any, tokenizer: Any) -> bool:
    """The casing embedding can travel as token types: a BERT encoder (token-type embedding)
    with a BERT WordPiece tokenizer (the shipped tokenizer code subclasses it)."""
    return (
        model.casing is not None
        and getattr(model.hf.config, "model_type", "") in ("bert", MODEL_TYPE)
        and _type_embedding(model.hf) is not None
        and type(tokenizer).__name__.removesuffix("Fast") == "BertTokenizer"
    )


def folded_state(model: Any) -> dict[str, torch.Tensor]:
    """The encoder's state dict with the casing embedding folded into the token-type rows."""
    emb = _type_embedding(model.hf)
    assert emb is not None and model.casing is not None
    key = next(k for k, v in model.hf.state_dict(keep_vars=True).items() if v is emb.weight)
    rows = emb.weight.detach()[0] + model.casing.weight.detach()  # row c: type 0 + shape c
    # rows N..2N-1 repeat them: the tokenizer adds N at the first token of each word (word starts)
    return {**{k: v.detach() for k, v in model.hf.state_dict().items()}, key: torch.cat([rows, rows])}


def unfold(model: Any) -> None:
    """After loading a folded checkpoint: the token-type rows become the casing embedding and
    the type embedding is zeroed (our encoder adds type row 0 to every token: + 0 is exact)."""
    emb = _type_embedding(model.hf)
    assert emb is not None and model.casing is not None
    model.casing.weight.data.copy_(emb.weight.data[: model.casing.weight.shape[0]])
    emb.weight.data.zero_()


def load_folded_config(path: str | Path) -> Any:
    from transformers import BertConfig

    values = json.loads((Path(path) / "config.json").read_text(encoding="utf-8"))
    for key in ("model_type", "auto_map", "architectures"):
        values.pop(key, None)
    return BertConfig.from_dict(values)


def write_files(folder: Path, head: str, folded: bool, n_classes: int, decode: str = "argmax") -> None:
    """Config, tokenizer config, tokenizer code and README of a saved checkpoint."""
    if folded:
        cfg_path = folder / "config.json"
        cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
        cfg.update(
            model_type=MODEL_TYPE,
            type_vocab_size=2 * n_classes,
            tagger_shapes=n_classes,  # token type = shape, + tagger_shapes at a word's first token
            tagger_decode=decode,  # "viterbi": the model class decodes with IOB2 constraints
            architectures=["TaggerCasingForTokenClassification"],
            auto_map={
                "AutoConfig": f"{REMOTE_FILE[:-3]}.TaggerCasingConfig",
                "AutoModelForTokenClassification": f"{REMOTE_FILE[:-3]}.TaggerCasingForTokenClassification",
            },
        )
        cfg_path.write_text(json.dumps(cfg, indent=2), encoding="utf-8")
        tok_path = folder / "tokenizer_config.json"
        tok = json.loads(tok_path.read_text(encoding="utf-8"))
        tok.update(tokenizer_class="TaggerCasingTokenizer", auto_map={"AutoTokenizer": [None, f"{REMOTE_FILE[:-3]}.TaggerCasingTokenizer"]})
        tok_path.write_text(json.dumps(tok, indent=2), encoding="utf-8")
        (folder / REMOTE_FILE).write_text(remote_code(n_classes), encoding="utf-8")
    elif head != "linear":
        warnings.warn(
            f"this {head!r} tagger cannot be folded into a standard checkpoint: transformers.pipeline will load "
            f"{folder.name} WITHOUT its casing embedding and give different labels; load it with tagger.load_tagger, "
            "or train with --head linear for a checkpoint that is exact in the pipeline",
            stacklevel=3,
        )
    text = readme(head, folded)
    if decode == "viterbi" and folded:
        text += ("\n**Decoding.** This tagger decodes with IOB2 constraints (Viterbi, `tagger.decode`): the model class in "
                 f"`{REMOTE_FILE}` does the same over the words' first tokens and raises the chosen label to the top of "
                 "each word's logits, so the pipeline's labels stay identical (its scores there are not probabilities of "
                 "the constrained sequence).\n")
    elif decode == "viterbi":
        text += ("\n**Decoding.** This tagger decodes with IOB2 constraints (Viterbi, `tagger.decode`); `transformers.pipeline` "
                 "takes each token's most likely label instead, so the two differ where that sequence is ill-formed "
                 "(an `I-X` after `O` or another type). Train with `--decode argmax` for labels identical to the pipeline.\n")
    (folder / README_FILE).write_text(text, encoding="utf-8")


def readme(head: str, folded: bool) -> str:
    how = {
        "linear": (
            "A standard `BertForTokenClassification` checkpoint (linear head): `transformers` gives the same word "
            "labels as this project's Predictor.\n\n"
            "```python\nfrom transformers import pipeline\n"
            'tagger = pipeline("token-classification", model="PATH", aggregation_strategy="first")\n```\n'
        ),
        "folded": (
            "Casing head: the word-shape embedding is folded into the token-type embedding, and the tokenizer in "
            f"`{REMOTE_FILE}` emits each token's word-shape class as `token_type_ids`. Load it with "
            "`trust_remote_code=True` (without it, loading fails on purpose: the plain BERT tokenizer would drop the "
            "casing signal and silently cost accuracy).\n\n"
            "```python\nfrom transformers import pipeline\n"
            'tagger = pipeline("token-classification", model="PATH", aggregation_strategy="first", trust_remote_code=True)\n```\n\n'
            "A word's shape is computed on the whitespace-separated chunk it sits in, so pass text with words separated "
            "by spaces for labels identical to the project's Predictor.\n"
        ),
        "unfolded": (
            f"**Not exact in `transformers.pipeline`.** This {head} head keeps an extra embedding in `casing.safetensors` "
            "that `transformers` does not read: the pipeline loads the folder but gives different (worse) labels. Load it "
            "with this project:\n\n```python\nfrom tagger import Predictor\ntagger = Predictor.from_dir(\"PATH\")\n```\n\n"
            "Train with `--head linear` for a checkpoint that is exact in `transformers.pipeline`.\n"
        ),
    }["linear" if head == "linear" else "folded" if folded else "unfolded"]
    return f"# BERT tagger checkpoint\n\nSaved by the bert-tagger project; `tagger.json` holds its training config and scores.\n\n{how}"


def remote_code(n_classes: int) -> str:
    """The checkpoint's ``tagger_casing.py``: the template below, with the shape count and the
    constrained decoder of :mod:`tagger.decode` (one source, so the two cannot drift apart)."""
    from . import decode, schemes

    # the decoder parses tags with schemes.split_tag: it travels with it (the checkpoint imports nothing of ours)
    constants = f"OUTSIDE = {schemes.OUTSIDE!r}\n_PREFIXED = re.compile({schemes._PREFIXED.pattern!r}, re.DOTALL)\n\n\n"
    functions = constants + "\n\n".join(inspect.getsource(f) for f in (schemes.split_tag, decode.transitions, decode.viterbi))
    return REMOTE_CODE.replace("__SHAPES__", str(n_classes)).replace("__DECODE__", functions)


REMOTE_CODE = '''"""Tokenizer and model classes for a bert-tagger checkpoint with the casing head (load with
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

_CHUNK = re.compile(r"\\S+")
SHAPES = __SHAPES__


__DECODE__


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
'''
