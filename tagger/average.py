"""Averaging the weights of several taggers ("model soup", Wortsman et al. 2022).

Taggers fine-tuned from the same base with the same labels and head, differing in seed (head
initialisation, data order, dropout, casing augmentation), usually stay in one basin of the loss:
the uniform mean of their weights is one model of the same size and speed, often better than each.
Measured for the shipped default in docs/ROBUSTNESS_SEARCH.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from .errors import ModelError
from .model import Tagger, load_tagger

# the first model's own run and results: they do not describe the average (each member's are in averaged_from)
_NOT_INHERITED = ("dev", "test", "test_file", "history", "best_epoch", "dev_data", "wall_seconds", "loop_seconds", "before", "continued",
                  "train_seconds", "train_loop_seconds",  # the names before wall_seconds/loop_seconds
                  "casing_augmentation", "averaged_from")


def _zeros(t: torch.Tensor) -> bool:
    return t.is_floating_point() and not bool(t.any())


def mean_state(states: Sequence[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """The element-wise mean of state dicts with the same keys and shapes (floating tensors, in
    fp32, returned in the first state's dtypes; other tensors, such as position ids, from the first).
    Tensors that are zero in every state may differ in shape: the first one's is kept (the token-type
    rows of a loaded casing checkpoint, zeroed by ``tagger.export.unfold``, are 9 or 18 by version).

    >>> a, b = {"w": torch.tensor([1.0, 2.0]), "i": torch.tensor([0, 1])}, {"w": torch.tensor([3.0, 6.0]), "i": torch.tensor([0, 1])}
    >>> mean_state([a, b])["w"].tolist(), mean_state([a, b])["i"].tolist()
    ([2.0, 4.0], [0, 1])
    >>> mean_state([{"t": torch.zeros(9, 2)}, {"t": torch.zeros(18, 2)}])["t"].shape
    torch.Size([9, 2])
    """
    first = states[0]
    out: dict[str, torch.Tensor] = {}
    for key, value in first.items():
        if all(_zeros(state[key]) for state in states):
            out[key] = value
        elif value.is_floating_point():
            total = torch.zeros_like(value, dtype=torch.float32)
            for state in states:
                total += state[key].float()
            out[key] = (total / len(states)).to(value.dtype)
        else:
            out[key] = value
    return out


def _check_compatible(paths: Sequence[str | Path], taggers: Sequence[Tagger]) -> None:
    """Raise :class:`ModelError` naming the first model that cannot be averaged with the first one."""
    first, name = taggers[0], str(paths[0])
    ref = first.model.state_dict()
    for path, t in zip(paths[1:], taggers[1:]):
        what = None
        if t.labels != first.labels:
            what = f"its labels {t.labels} differ from {name}'s {first.labels}"
        elif t.model.head != first.model.head:
            what = f"its head {t.model.head!r} differs from {name}'s {first.model.head!r}"
        elif t.config.base != first.config.base:
            what = f"it was fine-tuned from {t.config.base!r}, {name} from {first.config.base!r}"
        elif (t.config.doc_context, t.config.context_tokens, t.config.max_length) != (
                first.config.doc_context, first.config.context_tokens, first.config.max_length):
            what = f"its document context / max length settings differ from {name}'s (they would be tagged differently)"
        else:
            state = t.model.state_dict()
            odd = next((k for k in ref if k not in state or state[k].shape != ref[k].shape
                        and not (_zeros(state[k]) and _zeros(ref[k]))), None)
            if odd is not None or len(state) != len(ref):
                what = f"its weights do not match {name}'s ({odd or 'different parameter names'})"
        if what:
            raise ModelError(f"cannot average {str(path)!r} with {name!r}: {what}. Average models of one recipe with different seeds.")


def average_taggers(paths: Sequence[str | Path], decode: str | None = None) -> Tagger:
    """One tagger whose weights are the mean of those at ``paths`` (at least two checkpoint
    folders of one base, head and label set). Its settings are the first model's, with ``decode``
    (``auto``/``argmax``/``viterbi``) instead of its decoding if given; its metadata lists the
    models averaged (``averaged_from``) and drops the first one's scores."""
    if len(paths) < 2:
        raise ModelError("averaging needs at least two models")
    taggers = [load_tagger(p, device="cpu") for p in paths]
    _check_compatible(paths, taggers)
    first = taggers[0]
    first.model.load_state_dict(mean_state([t.model.state_dict() for t in taggers]))
    members: list[dict[str, Any]] = []
    for path, t in zip(paths, taggers):
        members.append({
            "model": Path(path).name, "seed": t.config.seed, "train": (t.meta.get("data_report") or {}).get("file"),
            "dev_f1": (t.meta.get("dev") or {}).get("f1"), "test_f1": (t.meta.get("test") or {}).get("f1"),
            "best_epoch": t.meta.get("best_epoch"), "epochs": t.config.epochs, "keep": t.config.keep,
            # a run's wall time (older checkpoints call it train_seconds)
            "wall_seconds": t.meta.get("wall_seconds", t.meta.get("train_seconds")), "history": t.meta.get("history", []),
        })
    meta = {k: v for k, v in first.meta.items() if k not in _NOT_INHERITED}
    meta["averaged_from"] = members
    config = first.config.replace(decode=decode) if decode else first.config
    return Tagger(first.model, first.tokenizer, config, meta)
