"""Where a run trains or tags, and in which precision: ``resolve_device("auto")`` picks CUDA
(bf16 where the GPU supports it, else fp16 autocast with loss scaling), then Apple MPS, else
the CPU. Under ``accelerate launch`` / ``torchrun`` accelerate decides instead (its config).

Torch is imported only inside the functions that need it, so importing this module is cheap
(the UI validates device names with it).
"""

from __future__ import annotations

import os
import re
from typing import Any

from .errors import ConfigError

DEVICE_NAMES = "auto, cpu, cuda, cuda:N, mps"
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
_DEVICE = re.compile(r"auto|cpu|mps|cuda(:\d+)?")
# accelerate's name for each precision (fp32 = no mixed precision)
MIXED_PRECISION = {"fp32": "no", "bf16": "bf16", "fp16": "fp16"}
# env variables that `accelerate launch` (ACCELERATE_*) or torchrun (WORLD_SIZE, LOCAL_RANK) set
_LAUNCHER_ENV = ("ACCELERATE_MIXED_PRECISION", "ACCELERATE_USE_CPU", "LOCAL_RANK", "WORLD_SIZE")


def check_names(device: str, precision: str = "auto") -> None:
    """Raise :class:`ConfigError` for a device or precision name this module does not know.

    >>> check_names("cuda:1", "bf16")
    >>> check_names("gpu")
    Traceback (most recent call last):
    ...
    tagger.errors.ConfigError: device must be one of auto, cpu, cuda, cuda:N, mps; got 'gpu'
    """
    if not isinstance(device, str) or not _DEVICE.fullmatch(device):
        raise ConfigError(f"device must be one of {DEVICE_NAMES}; got {device!r}")
    if precision not in PRECISIONS:
        raise ConfigError(f"precision must be one of {', '.join(PRECISIONS)}; got {precision!r}")


def launched() -> bool:
    """True under ``accelerate launch`` or ``torchrun``: then accelerate picks device and precision.

    >>> launched() == any(k in os.environ for k in _LAUNCHER_ENV)
    True
    """
    return any(key in os.environ for key in _LAUNCHER_ENV)


def _mps_available(torch: Any) -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def resolve_device(name: str = "auto", precision: str = "auto") -> tuple[str, str]:
    """``(device, precision)`` for a device name (``auto``, ``cpu``, ``cuda``, ``cuda:N``, ``mps``)
    and a precision (``auto``, ``fp32``, ``bf16``, ``fp16``).

    ``auto`` is CUDA when available, then MPS, then the CPU; its precision is bf16 on a GPU that
    supports it, fp16 (autocast with loss scaling) on an older GPU, fp32 elsewhere. A device
    asked for by name that is not there is a :class:`ConfigError`, never a silent CPU run.

    >>> resolve_device("cpu")
    ('cpu', 'fp32')
    >>> resolve_device("cpu", "fp16")
    Traceback (most recent call last):
    ...
    tagger.errors.ConfigError: precision fp16 needs a CUDA GPU (device 'cpu'); use fp32 or bf16
    """
    check_names(name, precision)
    import torch

    if name == "auto":
        device = "cuda" if torch.cuda.is_available() else "mps" if _mps_available(torch) else "cpu"
    elif name.startswith("cuda"):
        if not torch.cuda.is_available():
            build = "a CPU-only build" if torch.version.cuda is None else f"built for CUDA {torch.version.cuda}, no GPU found"
            raise ConfigError(f"device {name!r} asked for, but CUDA is not available (torch {torch.__version__}: {build})")
        index = int(name.split(":")[1]) if ":" in name else 0
        if index >= torch.cuda.device_count():
            raise ConfigError(f"device {name!r} asked for, but there are {torch.cuda.device_count()} CUDA devices")
        device = name
    elif name == "mps":
        if not _mps_available(torch):
            raise ConfigError("device 'mps' asked for, but Apple MPS is not available")
        device = "mps"
    else:
        device = "cpu"
    if precision == "auto":
        if device.startswith("cuda"):
            precision = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
        else:
            precision = "fp32"
    elif precision == "fp16" and not device.startswith("cuda"):
        raise ConfigError(f"precision fp16 needs a CUDA GPU (device {device!r}); use fp32 or bf16")
    return device, precision


def make_accelerator(device: str = "auto", precision: str = "auto") -> tuple[Any, str, str]:
    """An ``accelerate.Accelerator`` for a training run, with the device and precision it uses
    (``("cuda:0", "bf16")``, ``("cpu", "fp32")``...). Under a launcher with ``device="auto"``,
    accelerate's own config decides; otherwise :func:`resolve_device` does."""
    from accelerate import Accelerator
    from accelerate.state import AcceleratorState

    if launched() and device == "auto" and precision == "auto":
        accelerator = Accelerator()
    else:
        device, precision = resolve_device(device, precision)
        if not launched():
            # one process, nobody else shares accelerate's state: a run on another device or
            # precision than the last one in this process may reinitialise it
            AcceleratorState._reset_state(reset_partial_state=True)
            if device.startswith("cuda:"):
                import torch

                torch.cuda.set_device(device)
        accelerator = Accelerator(cpu=device == "cpu", mixed_precision=MIXED_PRECISION[precision])
    used = {value: key for key, value in MIXED_PRECISION.items()}.get(str(accelerator.mixed_precision), str(accelerator.mixed_precision))
    return accelerator, str(accelerator.device), used


def describe(device: str, precision: str) -> str:
    """Short text for a status line.

    >>> describe("cuda:0", "bf16"), describe("cpu", "fp32")
    ('GPU cuda:0 (bf16)', 'CPU')
    """
    if device.startswith("cuda"):
        return f"GPU {device} ({precision})"
    if device == "mps":
        return f"Apple GPU (mps, {precision})"
    return "CPU" if precision == "fp32" else f"CPU ({precision})"
