"""The model: a transformer encoder with a token-classification head, plus checkpoint I/O.

``TaggerModel`` wraps a token-classification model (BERT encoder + dropout + linear head):
``tagger.bert``'s plain-PyTorch BERT for local BERT folders, transformers'
``AutoModelForTokenClassification`` for anything else. The "casing" head adds a learned word-shape embedding to the input embeddings, which
gives an uncased encoder back the capitalisation cue NER leans on. Another head is a small
change here: subclass, and add its weights to ``extra_state``.

A checkpoint folder is a standard Hugging Face token-classification folder (config with
``id2label``, ``model.safetensors``, tokenizer), so ``transformers.pipeline`` loads it, plus
``tagger.json`` (config, data report, scores) and, for the casing head, ``casing.safetensors``.
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import nn
from transformers import AutoConfig, AutoModelForTokenClassification, AutoTokenizer, PreTrainedTokenizerBase

from . import bert, export
from .align import N_CASE_CLASSES
from .config import TrainConfig
from .device import resolve_device
from .errors import ModelError
from .meta import DEV_DATA_FILE, META_FILE, PACKAGED_PREFIX, resolve_base  # noqa: F401 -- resolve_base re-exported
from .record import RECORD_VERSION

CASING_FILE = "casing.safetensors"
# tagger.json keys renamed in record version 2 (tagger.record reads both): the whole run's wall time, the optimisation loop's
_RENAMED_META = {"train_seconds": "wall_seconds", "train_loop_seconds": "loop_seconds"}


class TaggerModel(nn.Module):
    """Encoder + token-classification head; ``casing`` adds a zero-initialised word-shape
    embedding to every sub-token's input embedding (zero init = starts as the plain model)."""

    def __init__(self, hf_model: nn.Module, head: str = "linear") -> None:
        super().__init__()
        self.hf = hf_model
        self.head = head
        # False for a trained tagger being continued: only rows added by grow_head are new then
        self.fresh_head = True
        self.casing: nn.Embedding | None = None
        if head == "casing":
            self.casing = nn.Embedding(N_CASE_CLASSES, hf_model.config.hidden_size)
            nn.init.zeros_(self.casing.weight)

    @property
    def labels(self) -> list[str]:
        id2label = self.hf.config.id2label
        return [id2label[i] for i in range(len(id2label))]

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        case_ids: torch.Tensor | None = None,
        positions: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Logits ``[batch, tokens, labels]``, or with ``positions`` (bool ``[batch, tokens]``)
        only those rows, ``[n, labels]`` (``tagger.bert`` then skips the work for the others)."""
        own = isinstance(self.hf, bert.BertForTokenClassification)
        extra = {"positions": positions} if own and positions is not None else {}
        if self.casing is None or case_ids is None:
            logits = self.hf(input_ids=input_ids, attention_mask=attention_mask, **extra).logits
        else:
            embeds = self.hf.get_input_embeddings()(input_ids) + self.casing(case_ids)
            logits = self.hf(inputs_embeds=embeds, attention_mask=attention_mask, **extra).logits
        return logits[positions] if positions is not None and not own else logits

    def head_parameters(self) -> list[nn.Parameter]:
        """Freshly initialised parameters (they get the larger head learning rate): the classifier and
        the casing embedding of a new tagger; of a continued one (``fresh_head`` False), the rows
        :func:`grow_head` added, if any (its trained rows and casing embedding learn at the encoder's rate)."""
        classifier = getattr(self.hf, "classifier", None)
        if not self.fresh_head:
            return list(classifier.new.parameters()) if isinstance(classifier, GrownClassifier) else []
        params = list(classifier.parameters()) if classifier is not None else []
        if self.casing is not None:
            params.append(self.casing.weight)
        return params

    def merge_head(self) -> None:
        """A grown classifier (:class:`GrownClassifier`) becomes one linear layer again (saving needs it)."""
        classifier = getattr(self.hf, "classifier", None)
        if isinstance(classifier, GrownClassifier):
            self.hf.classifier = classifier.merged()

    def extra_state(self) -> dict[str, torch.Tensor]:
        return {"weight": self.casing.weight.detach()} if self.casing is not None else {}


@dataclass
class Tagger:
    """A loaded tagger: model, tokenizer and everything saved beside them."""

    model: TaggerModel
    tokenizer: PreTrainedTokenizerBase
    config: TrainConfig
    meta: dict[str, Any] = field(default_factory=dict)  # data report, dev/test scores, ...

    @property
    def labels(self) -> list[str]:
        return self.model.labels


def load_tokenizer(name: str, plain_bert: bool = False) -> PreTrainedTokenizerBase:
    """The fast tokenizer of ``name``; ``plain_bert``: the BERT tokenizer of a checkpoint whose
    casing travels as token types (its shipped tokenizer code is for transformers users, never run here)."""
    if plain_bert:
        from transformers import BertTokenizerFast

        return BertTokenizerFast.from_pretrained(name)
    tok = AutoTokenizer.from_pretrained(name, add_prefix_space=True) if _needs_prefix_space(name) else AutoTokenizer.from_pretrained(name)
    if not tok.is_fast:
        raise ModelError(f"{name}: needs a fast tokenizer (for word_ids()); this one is slow")
    return tok


def _needs_prefix_space(name: str) -> bool:
    # Byte-level BPE (RoBERTa, GPT-2 style) must see a leading space on pre-split words.
    try:
        return AutoConfig.from_pretrained(name).model_type in {"roberta", "xlm-roberta", "deberta", "longformer", "bart", "gpt2"}
    except (OSError, ValueError):
        return False


class GrownClassifier(nn.Module):
    """A classifier grown by new labels: the trained rows (``old``, as they were) and the new rows
    (``new``) as two layers, so that training can give the new rows alone the head learning rate;
    the logits are those of one linear layer over both (:meth:`merged` is that layer)."""

    def __init__(self, old: nn.Linear, n_new: int, std: float) -> None:
        super().__init__()
        self.old = old
        self.new = nn.Linear(old.in_features, n_new, device=old.weight.device, dtype=old.weight.dtype)
        nn.init.normal_(self.new.weight, std=std)
        nn.init.zeros_(self.new.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.old(x), self.new(x)], dim=-1)

    def merged(self) -> nn.Linear:
        layer = nn.Linear(self.old.in_features, self.old.out_features + self.new.out_features,
                          device=self.old.weight.device, dtype=self.old.weight.dtype)
        with torch.no_grad():
            layer.weight.copy_(torch.cat([self.old.weight, self.new.weight]))
            layer.bias.copy_(torch.cat([self.old.bias, self.new.bias]))
        return layer


def grow_head(model: TaggerModel, labels: Sequence[str]) -> list[str]:
    """Grow ``model``'s classifier to ``labels``: its own labels first, in their order, then new
    ones (:func:`tagger.continual.grow_labels`). The old rows (weight and bias) keep their values
    exactly; the new rows start as a fresh head does (normal, std ``initializer_range``, zero bias):
    their logits start near 0 while a trained tagger's winning logits are large, so the grown
    model tags as before until it learns the new labels. Until saved, the classifier is a
    :class:`GrownClassifier` (the new rows train at ``head_lr``, the old ones at ``lr``). Returns
    the labels added."""
    old, labels = model.labels, list(labels)
    if labels[: len(old)] != old:
        raise ModelError(f"the grown label map must start with the model's own labels {old}, got {labels}")
    added = labels[len(old) :]
    head = getattr(model.hf, "classifier", None)
    if not added:
        return []
    if not isinstance(head, nn.Linear):
        raise ModelError(f"cannot add labels to a {type(model.hf).__name__}: its classifier is not one linear layer")
    model.hf.classifier = GrownClassifier(head, len(added), getattr(model.hf.config, "initializer_range", 0.02))
    model.hf.config.id2label = dict(enumerate(labels))
    model.hf.config.label2id = {label: i for i, label in enumerate(labels)}
    return added


def continue_tagger(config: TrainConfig, labels: Sequence[str]) -> Tagger:
    """The tagger at ``config.init_from`` for further training, its head grown to ``labels``
    (:func:`grow_head`), with ``config`` (already :meth:`TrainConfig.inherit`-ed from it)."""
    old = load_tagger(config.init_from, device="cpu")  # the trainer moves it to its device
    old.model.fresh_head = False
    grow_head(old.model, labels)
    return Tagger(old.model, old.tokenizer, config, {})


def build_tagger(config: TrainConfig, labels: Sequence[str]) -> Tagger:
    """A fresh tagger for training: the base encoder with a new head for ``labels``.
    If the base is one of our checkpoints with the same labels, its head is kept too (continuing a
    tagger, with its labels grown by the data's, is ``config.init_from``: :func:`continue_tagger`)."""
    if config.init_from:
        return continue_tagger(config, labels)
    base = resolve_base(config.base)
    if (Path(base) / META_FILE).is_file():
        tagger = load_tagger(base, device="cpu")  # the trainer moves it to its device
        if tagger.labels != list(labels):
            raise ModelError(
                f"{config.base}: its labels {tagger.labels} differ from the data's {list(labels)}; "
                "start from the base encoder instead"
            )
        if tagger.model.head != config.head:
            raise ModelError(f"{config.base}: has a {tagger.model.head!r} head, config asks for {config.head!r}")
        return Tagger(tagger.model, tagger.tokenizer, config, {})
    try:
        hf = _load_model(
            base,
            num_labels=len(labels),
            id2label=dict(enumerate(labels)),
            label2id={label: i for i, label in enumerate(labels)},
            classifier_dropout=config.dropout,
        )
    except OSError as err:
        raise ModelError(f"cannot load base model {config.base!r}: {err}") from None
    limit = getattr(hf.config, "max_position_embeddings", None)
    if limit is not None and config.max_length > limit:
        raise ModelError(f"max_length {config.max_length} is more than {config.base!r} supports ({limit} positions)")
    return Tagger(TaggerModel(hf, config.head), load_tokenizer(base), config, {})


def _load_model(name: str, use_safetensors: bool | None = None, config: Any = None, **overrides: Any) -> nn.Module:
    """Float32 token-classification model: ``tagger.bert`` for a local plain-BERT folder (loads
    in a fraction of the time), transformers' Auto class for everything else (hub ids, other
    architectures). ``overrides`` set config fields (labels, dropout); a given ``config`` (a
    BERT config for a checkpoint whose casing travels as token types) is used as it is."""
    if config is not None:
        model = bert.load_local(name, config) if Path(name).is_dir() else None
        if model is not None:
            return model
        # only now: importing transformers' BERT modelling code takes seconds (the default's cold start)
        from transformers import BertForTokenClassification

        return BertForTokenClassification.from_pretrained(name, config=config, dtype=torch.float32)
    config = AutoConfig.from_pretrained(name, trust_remote_code=False, **overrides)
    if Path(name).is_dir():
        model = bert.load_local(name, config)
        if model is not None:
            return model
    return AutoModelForTokenClassification.from_pretrained(
        name, config=config, dtype=torch.float32, trust_remote_code=False, use_safetensors=use_safetensors
    )


def load_tagger(path: str | Path, device: str = "auto") -> Tagger:
    """Load a checkpoint folder saved by :func:`save_tagger` (or any HF token-classification
    folder / hub id, read as a linear-head tagger). Weights load from safetensors only.
    ``device``: see :func:`tagger.device.resolve_device` (``auto``: the GPU when there is one)."""
    target, _ = resolve_device(device)
    path_s = resolve_base(str(path))
    meta_path = Path(path_s) / META_FILE
    meta: dict[str, Any] = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.is_file() else {}
    config = TrainConfig.from_dict(meta.get("config", {"base": path_s, "head": "linear"}))
    folded = meta.get("casing_in") == export.CASING_IN_TYPES
    try:
        hf = _load_model(path_s, use_safetensors=True, config=export.load_folded_config(path_s) if folded else None)
    except OSError as err:
        raise ModelError(f"cannot load model {str(path)!r}: {err}") from None
    model = TaggerModel(hf, config.head)
    if folded:
        export.unfold(model)
    elif model.casing is not None:
        state = load_file(str(Path(path_s) / CASING_FILE))
        weight = state["weight"].float()
        # checkpoints from before CASE_UNKNOWN have 8 classes; the new class never occurs at prediction
        model.casing.weight.data[: weight.shape[0]].copy_(weight)
    model.to(target).eval()
    return Tagger(model, load_tokenizer(path_s, plain_bert=folded), config, meta)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two folders in one atomic step (Linux ``renameat2(RENAME_EXCHANGE)``), so a reader
    or a crash sees the old model or the new one at ``b``, never neither. False where the
    system or the file system cannot (the caller then falls back to two renames)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    result = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    return result == 0


def save_tagger(tagger: Tagger, out_dir: str | Path, fp16: bool = False, files: dict[str, str] | None = None) -> Path:
    """Save atomically: write everything into a temporary sibling folder, then swap it into
    place (one atomic exchange on Linux; elsewhere two renames, with the old model put back if
    the second fails), so a crash or cancel leaves either the complete old model, the complete
    new one, or nothing, never a half-written folder. ``files`` (name -> text) are written with
    the model; the recorded dev data (``meta["dev_data"]``) survives re-saving a model in place."""
    out = Path(out_dir).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    tmp.chmod(0o755)  # mkdtemp makes it private; a model folder is meant to be shared
    try:
        tagger.model.merge_head()  # a head grown by new labels is saved as the one linear layer it computes
        hf = tagger.model.hf
        # the casing embedding travels as token types where it can (tagger.export: exact in transformers.pipeline)
        folded = export.can_fold(tagger.model, tagger.tokenizer)
        state = export.folded_state(tagger.model) if folded else {k: v.detach() for k, v in hf.state_dict().items()}
        dtype = torch.float16 if fp16 else torch.float32
        hf.save_pretrained(tmp, state_dict={k: v.to(dtype).contiguous() if v.is_floating_point() else v for k, v in state.items()})
        tagger.tokenizer.save_pretrained(tmp)
        extra = {} if folded else tagger.model.extra_state()
        if extra:
            dtype = torch.float16 if fp16 else torch.float32
            save_file({k: v.to(dtype).contiguous() for k, v in extra.items()}, str(tmp / CASING_FILE))
        meta = dict(tagger.meta, config=tagger.config.to_dict(), head=tagger.model.head, labels=tagger.labels,
                    casing_in=export.CASING_IN_TYPES if folded else CASING_FILE if extra else None, record_version=RECORD_VERSION)
        for before, now in _RENAMED_META.items():  # a version-1 record saved again (an old checkpoint re-saved) gets today's names
            if before in meta:
                meta.setdefault(now, meta.pop(before))
        (tmp / META_FILE).write_text(json.dumps(meta, indent=2), encoding="utf-8")
        export.write_files(tmp, tagger.model.head, folded, N_CASE_CLASSES, tagger.config.decoding)
        for name, text in (files or {}).items():
            (tmp / name).write_text(text, encoding="utf-8")
        kept = out / DEV_DATA_FILE
        if meta.get("dev_data") == DEV_DATA_FILE and not (tmp / DEV_DATA_FILE).exists() and kept.is_file():
            shutil.copy2(kept, tmp / DEV_DATA_FILE)
        if out.exists() and _exchange(tmp, out):
            shutil.rmtree(tmp, ignore_errors=True)  # tmp now holds the previous model
            return out
        old = None
        if out.exists():
            old = out.parent / f".{out.name}.old-{os.getpid()}"
            os.replace(out, old)
        try:
            os.replace(tmp, out)
        except BaseException:
            if old is not None:  # put the previous model back: never leave no model behind
                os.replace(old, out)
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out
