"""Free text -> words with character offsets -> one label and confidence per word -> entities.

Returns plain frozen values and mutates nothing: neither the inputs nor the loaded tagger.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from itertools import accumulate
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .decode import transitions, viterbi
from .errors import InputError
from .features import iter_batches, make_features
from .meta import MAX_TEXT_CHARS
from .model import Tagger, load_tagger
from .schemes import iob2_spans
from .words import _spacy_pipeline, entity_end, split_sentences, split_words  # noqa: F401 (re-exported: bench, tests)


@dataclass(frozen=True)
class Word:
    text: str
    start: int  # character offsets into the input text
    end: int
    label: str
    score: float


@dataclass(frozen=True)
class Entity:
    text: str
    start: int
    end: int
    label: str
    score: float  # mean of its words' confidences


@dataclass(frozen=True)
class Prediction:
    text: str
    words: tuple[Word, ...]
    entities: tuple[Entity, ...]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Predictor:
    """Batched, windowed prediction with a loaded :class:`Tagger`.

    ``quantize=True`` runs an int8 dynamically quantised copy of the linear layers (faster on
    CPU, slightly different scores); the tagger passed in is never modified.

    ``sentences=True`` (the default) tags each sentence of a text on its own, as the tagger was
    trained: whole multi-sentence windows score lower on CoNLL-2003 test documents and let entity
    types drift inside long paragraphs (figures: docs/BENCHMARKS.md, "Sentence splitting").
    ``False`` tags each text as one word sequence in overlapping windows.

    ``backend="onnx"`` (needs ``pip install onnxruntime onnx``) exports a copy of the model to
    ONNX once, fuses attention/GELU/LayerNorm for ONNX Runtime and, with ``quantize=True``,
    quantises its matrix products to int8: the fastest CPU path. The exported model is cached
    on disk (``TAGGER_CACHE``, default ``~/.cache/tagger``), keyed by a hash of the weights; the
    8 most recently used exports are kept.
    """

    def __init__(
        self,
        tagger: Tagger,
        batch_size: int = 64,
        max_length: int | None = None,
        quantize: bool = False,
        backend: str = "torch",
        sentences: bool = True,
    ) -> None:
        if backend not in ("torch", "onnx"):
            raise ValueError(f"backend must be 'torch' or 'onnx', got {backend!r}")
        self.tagger = tagger
        self.batch_size = batch_size
        self.sentences = sentences
        limit = getattr(tagger.model.hf.config, "max_position_embeddings", 512)
        self.max_length = min(max_length or tagger.config.max_length, limit)
        self.labels = tagger.labels
        self.model: Any = tagger.model
        if backend == "onnx":
            from .onnx_backend import OnnxModel  # deferred: onnxruntime is optional

            self.model = OnnxModel(tagger.model, quantize=quantize)
            self.device = torch.device("cpu")
        else:
            if quantize:
                # per-output-channel weight scales: as fast as per-tensor ones and more accurate (docs/BENCHMARKS.md)
                spec = {torch.nn.Linear: torch.ao.quantization.per_channel_dynamic_qconfig}
                self.model = torch.ao.quantization.quantize_dynamic(copy.deepcopy(tagger.model).cpu(), spec, dtype=torch.qint8)
            self.device = next(self.model.parameters(), torch.empty(0)).device
        pad = tagger.tokenizer.pad_token_id
        self.pad_id = pad if pad is not None else 0

    @classmethod
    def from_dir(cls, path: str | Path, device: str = "auto", **kwargs: Any) -> Predictor:
        """Load ``path`` and predict with it; ``device="auto"`` uses the GPU when there is one
        (ONNX and int8 quantisation run on the CPU)."""
        on_cpu = kwargs.get("backend", "torch") == "onnx" or kwargs.get("quantize", False)
        return cls(load_tagger(path, device="cpu" if on_cpu else device), **kwargs)

    def tag_words(self, sentences: Sequence[Sequence[str]], docs: Sequence[int] | None = None) -> list[list[tuple[str, float]]]:
        """(label, confidence) for every word of every pre-split sentence. ``docs`` (a document
        id per sentence; consecutive equal ids form a document) lets a tagger trained with
        document context read each sentence with its neighbours; without it every sentence is
        its own document."""
        out: list[list[tuple[str, float]]] = [[("O", 0.0)] * len(s) for s in sentences]
        nonempty = [i for i, s in enumerate(sentences) if s]
        cfg = self.tagger.config
        context = min(cfg.context, (self.max_length - 18) // 2) if docs is not None else 0
        feats = make_features(
            self.tagger.tokenizer, [sentences[i] for i in nonempty], self.max_length, overlap=True,
            docs=[docs[i] for i in nonempty] if context else None, context=context,
        )
        labels = self.labels
        constraints = transitions(labels) if cfg.decoding == "viterbi" else None
        logps: dict[int, np.ndarray] = {i: np.zeros((len(sentences[i]), len(labels)), np.float32) for i in nonempty} if constraints else {}
        with torch.inference_mode():
            for group, batch in iter_batches(feats, self.batch_size, self.pad_id):
                logits = self.model(
                    batch["input_ids"].to(self.device),
                    batch["attention_mask"].to(self.device),
                    batch["case_ids"].to(self.device),
                )
                # only the owned words' first sub-tokens: one gather, one softmax, one max per batch,
                # in numpy: a torch op here wakes torch's thread pool, which then spins on the cores
                # ONNX Runtime's threads need for the next batch (docs/BENCHMARKS.md)
                rows = np.array([r for r, f in enumerate(group) for _ in f.positions], dtype=np.int64)
                cols = np.array([p for f in group for p in f.positions], dtype=np.int64)
                picked = _numpy(logits)[rows, cols]
                idx = picked.argmax(-1)
                # max softmax probability = 1 / sum(exp(logit - max logit))
                score = 1.0 / np.exp(picked - picked.max(-1, keepdims=True)).sum(-1)
                idx_l, score_l = idx.tolist(), score.tolist()
                logp = picked - picked.max(-1, keepdims=True) - np.log(np.exp(picked - picked.max(-1, keepdims=True)).sum(-1, keepdims=True)) if constraints else None
                k = 0
                for f in group:
                    for s, words in f.owned():
                        sent = out[nonempty[s]]
                        for w in words:
                            sent[w] = (labels[idx_l[k]], score_l[k])
                            if logp is not None:
                                logps[nonempty[s]][w] = logp[k]
                            k += 1
        for i, lp in logps.items():  # constrained decoding: the best well-formed sequence per sentence
            assert constraints is not None
            out[i] = [(labels[j], float(np.exp(lp[w, j]))) for w, j in enumerate(viterbi(lp, *constraints))]
        return out

    def predict(self, text: str, language: str | None = None) -> Prediction:
        return self.predict_batch([text], language)[0]

    def predict_batch(self, texts: Sequence[str], language: str | None = None) -> list[Prediction]:
        """Tag many texts at once; each result equals tagging that text alone."""
        lang = language or self.tagger.config.language
        for t in texts:
            if not isinstance(t, str):
                raise InputError(f"expected text, got {type(t).__name__}")
            if len(t) > MAX_TEXT_CHARS:
                raise InputError(f"text has {len(t):,} characters; the limit is {MAX_TEXT_CHARS:,}. Split it into parts.")
        # every sentence of every text in one tag_words call (batched across texts), then regrouped;
        # sentences=False: each text is one "sentence"
        per_text = [split_sentences(t, lang) if self.sentences else [split_words(t, lang)] for t in texts]
        flat = [[w for w, _, _ in sent] for sents in per_text for sent in sents]
        # each text is one document: a tagger trained with document context reads its sentences together
        tags = iter(self.tag_words(flat, [t for t, sents in enumerate(per_text) for _ in sents]))
        out = []
        for t, sents in zip(texts, per_text):
            words = [w for sent in sents for w in sent]
            labels = [tag for _ in sents for tag in next(tags)]
            bounds = list(accumulate(len(sent) for sent in sents))
            out.append(_prediction(t, words, labels, bounds, lang))
        return out


def _numpy(logits: torch.Tensor | np.ndarray) -> np.ndarray:
    if isinstance(logits, np.ndarray):
        return logits.astype(np.float32, copy=False)
    return logits.detach().float().cpu().numpy()


def _prediction(
    text: str, split: list[tuple[str, int, int]], tags: list[tuple[str, float]], sentence_ends: Sequence[int] = (), language: str = "en"
) -> Prediction:
    """Words and entities; an entity never crosses a sentence end (``sentence_ends``: the word
    index after each sentence, the last one ``len(split)``) and never ends in the closing
    punctuation spaCy left on its last word (:func:`tagger.words.entity_end`, ``language``'s abbreviations keep their period)."""
    words = tuple(Word(w, s, e, label, score) for (w, s, e), (label, score) in zip(split, tags))
    spans = []
    start = 0
    for end in sentence_ends or [len(words)]:
        spans += [(start + sp.start, start + sp.end, sp.label) for sp in iob2_spans([w.label for w in words[start:end]])]
        start = end
    entities = []
    for a, b, label in spans:
        first, last = words[a], words[b - 1]
        score = sum(w.score for w in words[a:b]) / (b - a)
        end = last.start + entity_end(last.text, language)  # "M&M." -> "M&M": no sentence punctuation in a name
        entities.append(Entity(text[first.start : end], first.start, end, label, score))
    return Prediction(text, words, tuple(entities))
