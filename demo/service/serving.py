"""Which backend serves a model in the app, with no Gradio (:class:`Serving`). ``auto``: torch at first;
in the background, an ONNX Runtime copy of the model is made (its export is cached on disk, keyed by the
weights) and tags a built-in sample (:data:`SAMPLE`) with torch and with ONNX Runtime; ONNX Runtime serves
from then on if it gave torch's label on every word of the sample and was faster. Anything else
(onnxruntime missing, the export failing, one word different, a GPU) keeps torch. Start-up never waits for it.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from tagger.bulk import backend_name

log = logging.getLogger(__name__)

# A built-in sample for the backend check (words in several shapes: the casing head reads them)
SAMPLE = (
    "German Chancellor Olaf Scholz met French President Emmanuel Macron in Paris on Tuesday.",
    "Goldman Sachs raised its price target on Nvidia after the chipmaker beat estimates.",
    "The United Nations Security Council met in New York after fighting resumed near the border of Ethiopia.",
    "APPLE CEO TIM COOK VISITED BERLIN ON MONDAY.",
    "later, tim cook told reporters in new york that apple loves germany.",
    "Nguyễn Phú Trọng welcomed Jürgen Klinsmann to Hà Nội before flying to São Paulo.",
    "EU rejects German call to boycott British lamb.",
    "Peter Blackburn, BRUSSELS 1996-08-22: the European Commission said on Thursday it disagreed with German advice.",
    "Japan began the defence of their Asian Cup title with a lucky 2-1 win against Syria in a Group C championship match.",
    "Cricket - Leicestershire take over at top after innings victory at Chelmsford against Essex.",
)
TIMING_ROUNDS = 3  # the sample tagged this many times by each backend, alternately; the fastest round counts


@dataclass(frozen=True)
class BackendChoice:
    """What :func:`choose_backend` decided for a model, and on what evidence."""

    backend: str  # "torch" | "onnx"
    reason: str
    words: int = 0  # words of the sample compared
    same: int = 0  # of which ONNX Runtime gave torch's label
    torch_ms: float | None = None  # the sample, fastest round
    onnx_ms: float | None = None


def _ms(fn: Callable[[], Any]) -> float:
    t0 = time.perf_counter()
    fn()
    return 1000 * (time.perf_counter() - t0)


def choose_backend(predictor: Any, mode: str = "auto", sample: Sequence[str] = SAMPLE) -> tuple[Any, BackendChoice]:
    """The predictor to serve ``predictor``'s model with (itself, or an ONNX Runtime copy) and why.
    ONNX Runtime only where it gives torch's label on every word of ``sample`` and (``auto``) tags
    the sample faster, one text at a time as requests come."""
    if mode == "torch":
        return predictor, BackendChoice("torch", "TAGGER_TAG_BACKEND=torch")
    if backend_name(predictor) != "torch" or predictor.device.type != "cpu":
        return predictor, BackendChoice("torch", f"the model runs as {backend_name(predictor)} on {predictor.device.type}")
    from tagger.predict import Predictor

    try:
        twin = Predictor(predictor.tagger, batch_size=predictor.batch_size, max_length=predictor.max_length, backend="onnx",
                         sentences=predictor.sentences)
        mine, theirs = [predictor.predict(t) for t in sample], [twin.predict(t) for t in sample]
    except Exception as err:  # noqa: BLE001 -- onnxruntime missing, an export or session that fails: torch serves
        log.warning("ONNX Runtime is not used for serving: %s", err)
        return predictor, BackendChoice("torch", f"ONNX Runtime failed: {err}")
    pairs = [(a.label, b.label) for p, q in zip(mine, theirs) for a, b in zip(p.words, q.words, strict=True)]
    same = sum(a == b for a, b in pairs)
    if same < len(pairs):
        return predictor, BackendChoice("torch", f"ONNX Runtime gave another label on {len(pairs) - same} of {len(pairs)} words",
                                        len(pairs), same)
    rounds = [(_ms(lambda: [predictor.predict(t) for t in sample]), _ms(lambda: [twin.predict(t) for t in sample]))
              for _ in range(TIMING_ROUNDS)]
    torch_ms, onnx_ms = min(r[0] for r in rounds), min(r[1] for r in rounds)
    evidence = {"words": len(pairs), "same": same, "torch_ms": round(torch_ms, 1), "onnx_ms": round(onnx_ms, 1)}
    if mode == "onnx" or onnx_ms < torch_ms:
        return twin, BackendChoice("onnx", "same labels on every word of the sample" + ("" if mode == "onnx" else ", faster"), **evidence)
    return predictor, BackendChoice("torch", "ONNX Runtime gave the same labels but was not faster", **evidence)


class Serving:
    """Which predictor serves each model (:func:`choose_backend`), decided in one background thread the
    first time a model is used (or at warm-up), while torch serves it."""

    def __init__(self, mode: str = "auto") -> None:
        self.mode = mode
        self._chosen: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()  # torch predictor -> the one serving
        self.choices: dict[str, BackendChoice] = {}  # model folder -> the decision (logs, tests, the Tag tab's info line)
        self._todo: deque[tuple[Any, str]] = deque()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    def predictor(self, predictor: Any, key: str = "") -> Any:
        """The predictor that serves ``predictor``'s model now (``key``: its folder, for :attr:`choices`);
        the first time, the check is queued and ``predictor`` itself serves meanwhile."""
        if self.mode == "torch":
            return predictor
        with self._cond:
            chosen = self._chosen.get(predictor)
            if chosen is not None:
                return chosen
            if all(p is not predictor for p, _ in self._todo):
                self._todo.append((predictor, key))
                if self._thread is None:
                    self._thread = threading.Thread(target=self._loop, name="tagger-backend-check", daemon=True)
                    self._thread.start()
        return predictor

    def settle(self, predictor: Any, key: str = "", timeout: float | None = None) -> BackendChoice | None:
        """Queue the check of ``predictor``'s model and wait for the decision (the warm-up thread does)."""
        if self.mode == "torch":
            return None
        self.predictor(predictor, key)
        with self._cond:
            self._cond.wait_for(lambda: predictor in self._chosen, timeout)
            return self.choices.get(key)

    def backend(self, predictor: Any) -> str:
        """``onnx`` or ``torch``: what serves ``predictor``'s model now."""
        with self._cond:
            return backend_name(self._chosen.get(predictor, predictor))

    def _loop(self) -> None:
        while True:
            with self._cond:
                if not self._todo:
                    self._thread = None
                    return
                predictor, key = self._todo[0]
            try:
                chosen, choice = choose_backend(predictor, self.mode)
                log.info("model %s serves with %s (%s; sample of %d words, %d with torch's label; torch %s ms, ONNX Runtime %s ms)",
                         key or "?", choice.backend, choice.reason, choice.words, choice.same, choice.torch_ms, choice.onnx_ms)
            except Exception as err:  # never fatal: torch keeps serving
                log.exception("backend check of %s failed", key)
                chosen, choice = predictor, BackendChoice("torch", f"the check failed: {err}")
            with self._cond:
                self._chosen[predictor], self.choices[key] = chosen, choice
                self._todo.popleft()
                self._cond.notify_all()
