"""BERT for token classification in plain PyTorch, for local BERT checkpoints.

Same modules and parameter names as transformers' ``BertForTokenClassification``, so a folder
saved here is a standard Hugging Face checkpoint (``transformers.pipeline`` loads it) and a
standard BERT folder loads here. Why not just transformers' class: its first import pulls in
``torch._dynamo``, ``torch.distributed.tensor`` and the generation utilities, 3 s of a 3.4 s
cold load of the default tagger on a 2-core CPU; this module loads the same checkpoint in
about 0.1 s and runs the same arithmetic (tests/test_bert.py compares the logits).

Only the plain architecture is handled (``model_type`` "bert", absolute positions, exact GELU,
an encoder without cross-attention, one unsharded ``model.safetensors``); for anything else
:func:`load_local` returns ``None`` and the caller uses transformers' Auto classes.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from safetensors import safe_open
from safetensors.torch import save_file
from torch import nn

WEIGHTS = "model.safetensors"
_IGNORED = ("embeddings.position_ids", "pooler.", "cls.")  # buffers and heads a tagger never uses


class _MaskedScale(torch.autograd.Function):
    """Dropout from 16 random bits per element: keep where a uniform int16 >= the threshold."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, p: float) -> torch.Tensor:
        k = round(p * 65536)  # drop probability k / 65536 (0.1 -> 0.100006)
        bits = torch.empty((x.numel() + 3) // 4, dtype=torch.int64, device=x.device).random_(-(2**63), 2**63 - 1)
        keep = bits.view(torch.int16)[: x.numel()].view(x.shape) >= k - 32768
        ctx.scale = 65536 / (65536 - k)
        ctx.save_for_backward(keep)
        return torch.where(keep, x, 0).mul_(ctx.scale)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        (keep,) = ctx.saved_tensors
        return torch.where(keep, grad, 0).mul_(ctx.scale), None


class Dropout(nn.Dropout):
    """``nn.Dropout`` with a cheaper mask on the CPU: torch draws one 32-bit Mersenne-Twister
    number per element for its Bernoulli mask (a visible share of a CPU training step); four
    16-bit lanes of one 64-bit draw give the same distribution at a quarter of the draws
    (timings: docs/BENCHMARKS.md). Elsewhere (CUDA) torch's own."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        if x.device.type != "cpu" or self.p >= 1:
            return super().forward(x)
        return _MaskedScale.apply(x, self.p)


class BertEmbeddings(nn.Module):
    def __init__(self, cfg: Any) -> None:
        super().__init__()
        self.word_embeddings = nn.Embedding(cfg.vocab_size, cfg.hidden_size, padding_idx=cfg.pad_token_id)
        self.position_embeddings = nn.Embedding(cfg.max_position_embeddings, cfg.hidden_size)
        self.token_type_embeddings = nn.Embedding(cfg.type_vocab_size, cfg.hidden_size)
        self.LayerNorm = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps)
        self.dropout = Dropout(cfg.hidden_dropout_prob)

    def forward(self, inputs_embeds: torch.Tensor) -> torch.Tensor:
        n = inputs_embeds.shape[1]
        # same order of additions as transformers (token type 0, then positions): identical floats
        x = inputs_embeds + self.token_type_embeddings.weight[0]
        x = x + self.position_embeddings.weight[:n]
        return self.dropout(self.LayerNorm(x))


class BertSelfAttention(nn.Module):
    def __init__(self, cfg: Any) -> None:
        super().__init__()
        self.heads = cfg.num_attention_heads
        self.head_size = cfg.hidden_size // cfg.num_attention_heads
        self.query = nn.Linear(cfg.hidden_size, cfg.hidden_size)
        self.key = nn.Linear(cfg.hidden_size, cfg.hidden_size)
        self.value = nn.Linear(cfg.hidden_size, cfg.hidden_size)
        self.dropout = Dropout(cfg.attention_probs_dropout_prob)  # its p is read in forward
        self.eager = False  # explicit matmul/softmax: the graph ONNX Runtime's BERT fusion matches

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        b, n, _ = x.shape

        def heads(t: torch.Tensor) -> torch.Tensor:
            return t.view(b, n, self.heads, self.head_size).transpose(1, 2)

        q, k, v = heads(self.query(x)), heads(self.key(x)), heads(self.value(x))
        p = self.dropout.p if self.training else 0.0
        if self.eager:
            scores = torch.matmul(q, k.transpose(2, 3)) / math.sqrt(self.head_size)
            if mask is not None:  # additive here (see BertForTokenClassification.forward)
                scores = scores + mask
            out = torch.matmul(self.dropout(scores.softmax(-1)), v)
        else:
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p)
        return out.transpose(1, 2).reshape(b, n, -1)

    def packed(self, x: torch.Tensor, real: torch.Tensor, shape: tuple[int, int], mask: torch.Tensor, rows: torch.Tensor | None) -> torch.Tensor:
        """Attention on packed rows: ``x`` [N, hidden] holds the real tokens (flat indices ``real``
        into a [b, n] batch); queries only for ``real[rows]``. Returns [len(rows), hidden]."""
        b, n = shape

        def padded(t: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
            full = t.new_zeros(b * n, t.shape[1]).index_copy(0, idx, t)
            return full.view(b, n, self.heads, self.head_size).transpose(1, 2)

        q_idx = real if rows is None else real[rows]
        q = self.query(x if rows is None else x[rows])
        p = self.dropout.p if self.training else 0.0
        out = F.scaled_dot_product_attention(padded(q, q_idx), padded(self.key(x), real), padded(self.value(x), real), attn_mask=mask, dropout_p=p)
        return out.transpose(1, 2).reshape(b * n, -1).index_select(0, q_idx)


class BertSelfOutput(nn.Module):
    def __init__(self, cfg: Any) -> None:
        super().__init__()
        self.dense = nn.Linear(cfg.hidden_size, cfg.hidden_size)
        self.LayerNorm = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps)
        self.dropout = Dropout(cfg.hidden_dropout_prob)

    def forward(self, h: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.dropout(self.dense(h)) + x)


class BertAttention(nn.Module):
    def __init__(self, cfg: Any) -> None:
        super().__init__()
        self.self = BertSelfAttention(cfg)
        self.output = BertSelfOutput(cfg)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        return self.output(self.self(x, mask), x)

    def packed(self, x: torch.Tensor, real: torch.Tensor, shape: tuple[int, int], mask: torch.Tensor, rows: torch.Tensor | None) -> torch.Tensor:
        return self.output(self.self.packed(x, real, shape, mask, rows), x if rows is None else x[rows])


class BertIntermediate(nn.Module):
    def __init__(self, cfg: Any) -> None:
        super().__init__()
        self.dense = nn.Linear(cfg.hidden_size, cfg.intermediate_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.gelu(self.dense(x))


class BertOutput(BertSelfOutput):
    def __init__(self, cfg: Any) -> None:
        super().__init__(cfg)
        self.dense = nn.Linear(cfg.intermediate_size, cfg.hidden_size)


class BertLayer(nn.Module):
    def __init__(self, cfg: Any) -> None:
        super().__init__()
        self.attention = BertAttention(cfg)
        self.intermediate = BertIntermediate(cfg)
        self.output = BertOutput(cfg)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        a = self.attention(x, mask)
        return self.output(self.intermediate(a), a)

    def packed(self, x: torch.Tensor, real: torch.Tensor, shape: tuple[int, int], mask: torch.Tensor, rows: torch.Tensor | None = None) -> torch.Tensor:
        """The layer on packed rows (see ``BertSelfAttention.packed``); output rows = ``rows``."""
        a = self.attention.packed(x, real, shape, mask, rows)
        return self.output(self.intermediate(a), a)


class BertEncoder(nn.Module):
    def __init__(self, cfg: Any) -> None:
        super().__init__()
        self.layer = nn.ModuleList(BertLayer(cfg) for _ in range(cfg.num_hidden_layers))


class BertModel(nn.Module):
    def __init__(self, cfg: Any) -> None:
        super().__init__()
        self.embeddings = BertEmbeddings(cfg)
        self.encoder = BertEncoder(cfg)


class Output:
    """What transformers' models return, as far as the tagger reads it."""

    def __init__(self, logits: torch.Tensor) -> None:
        self.logits = logits


class BertForTokenClassification(nn.Module):
    """Called like transformers' class: ``model(input_ids=..., attention_mask=...).logits``
    or with ``inputs_embeds`` instead of ``input_ids``."""

    def __init__(self, config: Any) -> None:
        super().__init__()
        self.config = config
        self.bert = BertModel(config)
        drop = config.classifier_dropout if config.classifier_dropout is not None else config.hidden_dropout_prob
        self.dropout = Dropout(drop)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)

    def get_input_embeddings(self) -> nn.Embedding:
        return self.bert.embeddings.word_embeddings

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        positions: torch.Tensor | None = None,
    ) -> Output:
        """Logits [batch, tokens, labels]; with ``positions`` (bool [batch, tokens], inside the
        attention mask) only those rows, [n, labels], as ``logits[positions]`` would give."""
        if inputs_embeds is None:
            assert input_ids is not None
            inputs_embeds = self.bert.embeddings.word_embeddings(input_ids)
        x = self.bert.embeddings(inputs_embeds)
        if self.training and attention_mask is not None:
            return Output(self._packed(x, attention_mask.bool(), positions))
        # always the mask, even when nothing is padded: a data-dependent branch here would be
        # frozen into an exported (traced) graph; SDPA's fused CPU kernel takes a mask anyway
        mask = None
        if attention_mask is not None:
            mask = attention_mask[:, None, None, :]
            if self.bert.encoder.layer[0].attention.self.eager:
                # additive, written as ONNX Runtime's attention fusion expects it (Unsqueeze, Cast,
                # Sub, Mul): any other spelling leaves the exported attention unfused, and slower
                mask = (1.0 - mask.to(x.dtype)) * torch.finfo(x.dtype).min
            else:
                mask = mask.bool()
        for layer in self.bert.encoder.layer:
            x = layer(x, mask)
        logits = self.classifier(self.dropout(x))
        return Output(logits if positions is None else logits[positions])

    def _packed(self, x: torch.Tensor, keep: torch.Tensor, positions: torch.Tensor | None) -> torch.Tensor:
        """Training forward without padding: the position-wise layers (projections, feed-forward,
        LayerNorm, dropout; most of a step) see only the real tokens, and the last layer computes
        its queries and everything after them only for ``positions`` (the labelled first
        sub-tokens). The same arithmetic as the padded forward for every row the loss reads
        (tests/test_bert.py). Savings: docs/BENCHMARKS.md."""
        b, n, h = x.shape
        real = keep.reshape(-1).nonzero().squeeze(1)
        mask = keep[:, None, None, :]
        x = x.reshape(b * n, h).index_select(0, real)
        rows = None
        if positions is not None:
            where = torch.full((b * n,), -1, dtype=torch.long, device=x.device)
            where[real] = torch.arange(len(real), device=x.device)
            rows = where[positions.reshape(-1)]
            if bool((rows < 0).any()):
                raise ValueError("positions must lie inside the attention mask (a scored padding token?)")
        layers = self.bert.encoder.layer
        for i, layer in enumerate(layers):
            x = layer.packed(x, real, (b, n), mask, rows if i == len(layers) - 1 else None)
        logits = self.classifier(self.dropout(x))
        if positions is not None:
            return logits
        return logits.new_zeros(b * n, logits.shape[1]).index_copy(0, real, logits).view(b, n, -1)

    def save_pretrained(self, folder: str | Path, state_dict: dict[str, torch.Tensor] | None = None) -> None:
        """``config.json`` + ``model.safetensors``, as transformers writes them."""
        folder = Path(folder)
        self.config.architectures = ["BertForTokenClassification"]
        self.config.save_pretrained(folder)
        state = state_dict if state_dict is not None else self.state_dict()
        save_file({k: v.detach().contiguous() for k, v in state.items()}, str(folder / WEIGHTS), metadata={"format": "pt"})


def supports(config: Any) -> bool:
    """Whether ``config`` describes the plain BERT this module implements."""
    return (
        config.model_type == "bert"
        and getattr(config, "position_embedding_type", "absolute") in (None, "absolute")
        and config.hidden_act == "gelu"
        and not getattr(config, "is_decoder", False)
        and not getattr(config, "add_cross_attention", False)
        and config.hidden_size % config.num_attention_heads == 0
    )


def load_local(folder: str | Path, config: Any) -> BertForTokenClassification | None:
    """The model in ``folder`` (a local BERT checkpoint: a bare encoder, a tagger, or another
    BERT head whose extra weights are dropped) in float32, or ``None`` when this module does not
    cover it. A missing classifier is initialised as transformers does (normal, std
    ``initializer_range``; zero bias); a missing encoder weight means "not covered"."""
    weights = Path(folder) / WEIGHTS
    if not weights.is_file() or not supports(config):
        return None
    state: dict[str, torch.Tensor] = {}
    with safe_open(str(weights), framework="pt") as f:
        for key in f.keys():  # noqa: SIM118 (safe_open is not iterable)
            name = key if key.startswith(("bert.", "classifier.")) else f"bert.{key}"
            if not name.removeprefix("bert.").startswith(_IGNORED):
                state[name] = f.get_tensor(key).float()
    # built on the CPU: the meta device would skip the (0.15 s) random init, but its first use
    # imports torch._dynamo, which costs 2 s
    model = BertForTokenClassification(config)
    expected = set(model.state_dict())
    classifier = {"classifier.weight", "classifier.bias"}
    if set(state) - expected or expected - set(state) - classifier:
        return None
    head = state.get("classifier.weight")
    if head is None or head.shape[0] != config.num_labels:  # a new (or resized) head
        for name in classifier:
            state.pop(name, None)
        model.classifier = nn.Linear(config.hidden_size, config.num_labels)
        nn.init.normal_(model.classifier.weight, std=config.initializer_range)
        nn.init.zeros_(model.classifier.bias)
    model.load_state_dict(state, strict=False, assign=True)
    return model
