"""Optional ONNX Runtime backend for :class:`tagger.predict.Predictor` (``backend="onnx"``).

A copy of the model is exported to ONNX with eager attention, so that ONNX Runtime's BERT
optimizer fuses each layer into a few kernels (Attention, BiasGelu, SkipLayerNormalization,
EmbedLayerNormalization); ``quantize=True`` then quantises the matrix products to int8
(weights per output channel, activations dynamically per tensor: -0.1 F1 on CoNLL-2003 test,
where per-tensor weights cost 0.4). The result is cached on disk keyed by a hash of the
weights, so only the first use pays for the export (seconds); the 8 most recently used exports
are kept. Needs ``pip install onnxruntime onnx``.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import logging
import os
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch

from .bert import BertSelfAttention
from .model import TaggerModel

FORMAT_VERSION = "4"  # bump when the export recipe changes (invalidates the cache)
KEEP = 8  # exports kept in the cache (MiniLM: 90 MB fp32, 58 MB int8), least recently used go first
GRACE_S = 3600  # never delete a file used this recently: another process may be loading it


def cache_dir() -> Path:
    root = os.environ.get("TAGGER_CACHE") or os.path.join(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache", "tagger")
    return Path(root) / "onnx"


def _fingerprint(model: TaggerModel, quantize: bool) -> str:
    import onnxruntime

    h = hashlib.blake2b(digest_size=16)
    h.update(f"{FORMAT_VERSION}|{quantize}|{model.head}|{onnxruntime.__version__}|{torch.__version__}".encode())
    h.update(model.hf.config.to_json_string().encode())
    for name, tensor in model.state_dict().items():
        h.update(name.encode())
        h.update(tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def prune(folder: Path, keep: int = KEEP, grace_s: float = GRACE_S) -> None:
    """Delete all but the ``keep`` most recently used exports (a file's mtime is its last use)
    and the partial files of crashed exports, sparing anything touched in the last ``grace_s``
    seconds. Every training run makes a new model, so without this the cache only grows."""

    def dated(pattern: str) -> list[tuple[float, Path]]:
        out = []
        for f in folder.glob(pattern):
            with contextlib.suppress(OSError):  # deleted meanwhile by another process
                out.append((f.stat().st_mtime, f))
        return sorted(out, reverse=True)

    now = time.time()
    for mtime, f in dated("*.onnx")[keep:] + dated(".*.tmp"):
        if now - mtime > grace_s:
            f.unlink(missing_ok=True)


def _quiet(record: logging.LogRecord) -> bool:
    return "pre-processing before quantization" not in record.getMessage()


class _Export(torch.nn.Module):
    def __init__(self, model: TaggerModel) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, case_ids: torch.Tensor | None = None) -> torch.Tensor:
        return self.model(input_ids, attention_mask, case_ids)


def export(model: TaggerModel, path: Path, quantize: bool) -> None:
    """Write ``model`` (a copy of it, with eager attention) as an optimised ONNX file."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers.optimizer import optimize_model

    work = copy.deepcopy(model).cpu().float().eval()
    # the fusion patterns match eager attention (explicit matmul/softmax), not SDPA
    work.hf.config._attn_implementation = "eager"
    for module in work.modules():
        if isinstance(module, BertSelfAttention):
            module.eager = True
    casing = work.casing is not None
    names = ["input_ids", "attention_mask"] + (["case_ids"] if casing else [])
    ids = torch.randint(1000, 2000, (2, 12))
    mask = torch.ones_like(ids)
    mask[1, 9:] = 0  # a padded row: the traced graph must keep the attention mask
    args = (ids, mask) + ((torch.ones_like(ids),) if casing else ())
    axes = {n: {0: "batch", 1: "tokens"} for n in [*names, "logits"]}
    cfg = work.hf.config
    with tempfile.TemporaryDirectory(prefix="tagger-onnx-") as tmp:
        raw, fused = Path(tmp) / "raw.onnx", Path(tmp) / "fused.onnx"
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                _Export(work), args, str(raw), input_names=names, output_names=["logits"], dynamic_axes=axes,
                opset_version=17, dynamo=False,
            )
        opt = optimize_model(str(raw), model_type="bert", num_heads=cfg.num_attention_heads, hidden_size=cfg.hidden_size)
        opt.save_model_to_file(str(fused))
        tmp_out = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        if quantize:
            # it logs a "consider pre-processing" hint on the root logger every time: not for our users
            logging.getLogger().addFilter(_quiet)
            try:
                quantize_dynamic(
                    fused, tmp_out, weight_type=QuantType.QInt8, per_channel=True, op_types_to_quantize=["MatMul", "Attention"],
                    extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
                )
            finally:
                logging.getLogger().removeFilter(_quiet)
        else:
            os.replace(fused, tmp_out)
        os.replace(tmp_out, path)  # atomic: a concurrent reader sees the whole file or none


class OnnxModel:
    """Callable like :class:`TaggerModel` (``(input_ids, attention_mask, case_ids) -> logits``)."""

    def __init__(self, model: TaggerModel, quantize: bool = True, threads: int | None = None) -> None:
        try:
            import onnx  # noqa: F401  (needed by the export)
            import onnxruntime as ort
        except ImportError as err:
            raise ImportError(f"backend='onnx' needs ONNX Runtime: pip install onnxruntime onnx ({err})") from err

        self.casing = model.casing is not None
        folder = cache_dir()
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError:  # read-only home (containers, Spaces): cache in the temp folder instead
            folder = Path(tempfile.gettempdir()) / "tagger-onnx"
            folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{_fingerprint(model, quantize)}.onnx"
        if path.is_file():
            with contextlib.suppress(OSError):  # a read-only cache still works, only unpruned
                os.utime(path)  # last use, for prune()
        else:
            export(model, path, quantize)
            with contextlib.suppress(OSError):
                prune(folder)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or torch.get_num_threads()
        options.inter_op_num_threads = 1
        # workers busy-wait between kernels (ORT's default): waking a sleeping worker for each of a
        # forward's kernels costs more than the spinning (docs/BENCHMARKS.md). It used to cost more
        # than it saved, while torch's thread pool ran the post-processing and fought the spinning
        # workers; that is numpy now (Predictor).
        options.add_session_config_entry("session.intra_op.allow_spinning", "1")
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.path = path

    def __call__(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, case_ids: torch.Tensor | None = None) -> np.ndarray:
        """Logits as a numpy array (``Predictor`` post-processes in numpy, see there)."""
        feed = {"input_ids": input_ids.numpy(), "attention_mask": attention_mask.numpy()}
        if self.casing:
            feed["case_ids"] = case_ids.numpy() if case_ids is not None else np.zeros_like(feed["input_ids"])
        return self.session.run(["logits"], feed)[0]
