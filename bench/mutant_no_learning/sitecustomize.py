"""A mutant for the app-level tests: the app's training worker learns nothing.

Put this folder first on ``PYTHONPATH`` and run the app-level tests::

    PYTHONPATH=bench/mutant_no_learning .venv/bin/python -m pytest -m "app and not browser" -q

Python imports ``sitecustomize`` at start-up in every process. This one acts only in processes
started by multiprocessing's *spawn* method (their command line ends with ``--multiprocessing-fork``):
the app's training worker (:mod:`demo.service.worker`). The test process itself (which trains the
``tiny_tagger`` fixture in-process, and tags) is untouched, so the app still starts, tags and
trains "successfully": only what a user would notice changes (a trained model that learned nothing).

In such a process, once ``torch.optim`` is imported, every optimizer's ``step`` becomes a no-op:
the classes torch defines (``AdamW`` and its fused/foreach paths included: they run inside
``step``), the base class, and any subclass defined later (``__init_subclass__``); the fused
kernels themselves are replaced too, for code that calls them without ``step``. Everything else
(forward, loss, backward, scheduler, dev scoring, saving) runs as usual. The tests must FAIL with
this mutant and pass without it: on 2026-12-06 (2 shared cores), 7 of the 126 app tests failed with it
(every test that trains in the worker and checks what a user would see: the worker / job queue, /train
twice, the Fine-tune handlers start and train, two uploads, continuing the default) and all 126
passed without it. ``measure.py`` here shows what the mutant does to a run (dev F1 2.5-5.1, a flat
loss at ln 9, against 70-100 and a loss falling by half when it learns).

A ``sitecustomize`` on PYTHONPATH hides any other one (the project's venv has none).
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import sys
from typing import Any

TARGET = "torch.optim"


def _no_step(self: Any, closure: Any = None) -> Any:
    """An optimizer step that changes no parameter (a closure is still evaluated, as callers expect its loss)."""
    if closure is not None:
        import torch

        with torch.enable_grad():
            return closure()
    return None


def _kernel_no_op(*args: Any, **kwargs: Any) -> None:
    return None


def _patch(optim: Any) -> None:
    """Every optimizer class in ``torch.optim`` (and those defined later) gets the no-op step."""
    import torch

    base = optim.Optimizer
    classes = {base, *(c for c in vars(optim).values() if isinstance(c, type) and issubclass(c, base))}
    for cls in classes:
        cls.step = _no_step  # Optimizer.__init__ wraps it in its profiling hook: the wrapper calls this
    original = base.__dict__.get("__init_subclass__")

    def init_subclass(cls: type, **kwargs: Any) -> None:
        if original is not None:
            original.__func__(cls, **kwargs)
        else:
            super(base, cls).__init_subclass__(**kwargs)
        cls.step = _no_step

    base.__init_subclass__ = classmethod(init_subclass)
    for name in ("_fused_adamw_", "_fused_adam_", "_fused_sgd_", "_fused_adagrad_"):
        if hasattr(torch, name):
            setattr(torch, name, _kernel_no_op)
    print(f"[mutant_no_learning] optimizer steps are no-ops in the spawned process {os.getpid()}", file=sys.stderr)


class _PatchAfterImport(importlib.abc.MetaPathFinder):
    """Patches ``torch.optim`` right after it is first imported (nothing is imported before the worker does)."""

    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        if name != TARGET:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return spec
        loader = spec.loader
        run = loader.exec_module

        def exec_module(module: Any) -> None:
            run(module)
            _patch(module)

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


if "--multiprocessing-fork" in sys.argv:
    sys.meta_path.insert(0, _PatchAfterImport())
