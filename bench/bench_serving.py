"""Serving a crowd: 1, 5 and 20 concurrent Tag callers on the running app, batching on and off.

Starts ``python app.py`` as a subprocess (the default model, the app's default settings, app-trained
models in a temp folder) with batching on (``TAGGER_TAG_BATCH=N`` for each ``--batch N``: batches on
the CPU too) and with it off (``TAGGER_TAG_BATCH=0``: each request alone, two at a time, which is what
the default ``auto`` does on the CPU), ``--pairs`` times each, in turn. For each
app: waits until the start-up backend check is logged ("serves with ..."), then

1. one caller tags the texts one after the other (the reference answers; ``lone`` latencies);
2. for 1, 5 and 20 callers: ``--rounds`` bursts of that many requests released together by a barrier,
   each caller with its own gradio_client session and a different text.

Every answer of 2 is compared with 1 (entities with their scores, every word's label and confidence).
Latency = client call to answer, queue and batch wait included. Texts: 20 distinct CoNLL-2003 eng.testb
sentences of 30-50 words (words joined by spaces), as in bench_load.py.

gradio_client makes a new HTTP client for each request; with certificate checking on (its default) each
one loads the CA bundle, about 30 ms of the bench's own CPU per request on this machine, on the cores the
app needs. The app is plain http on 127.0.0.1, so the clients are made with ``ssl_verify=False``.

    python bench/bench_serving.py [--rounds 5] [--pairs 1] [--batch 16 4] [--only on|off] [--write]
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench_load import pick_sentences
from common import CONLL, REPO, free_port, header, load_average, publish, quantile

LEVELS = (1, 5, 20)
TARGET_P95_MS = 400.0
TARGET_RATIO = 4.0


def start_app(tmp: Path, env_extra: dict[str, str]) -> tuple[subprocess.Popen, str, Path]:
    port = free_port()
    log = tmp / f"app-{port}.log"
    env = dict(os.environ, TAGGER_MODELS_DIR=str(tmp / "runs"), GRADIO_ANALYTICS_ENABLED="False", PYTHONPATH=str(REPO), **env_extra)
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, str(REPO / "app.py"), "--port", str(port)], cwd=REPO, env=env, stdout=out, stderr=out)
    return proc, f"http://127.0.0.1:{port}/", log


def stop_app(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()


def wait_ready(url: str, log: Path, proc: subprocess.Popen, timeout: float = 300) -> str:
    """Wait for the server, then for the warm-up's backend decision; returns that log line."""
    from gradio_client import Client

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the app exited: {log.read_text()[-2000:]}")
        found = re.search(r"model .* serves with .*", log.read_text(errors="replace"))
        if found:
            Client(url, verbose=False, ssl_verify=False).predict("Warm-up from Paris.", "default", api_name="/tag")
            return found.group(0)
        time.sleep(0.5)
    raise SystemExit(f"no backend decision logged within {timeout:.0f} s: {log.read_text()[-2000:]}")


def answer(result: Any) -> tuple:
    """What an answer says about the text: entities with scores, and the word table (label, confidence)."""
    return tuple((e["start"], e["end"], e["entity"], e["score"]) for e in result[2]["entities"]), tuple(map(tuple, result[4]["data"]))


def same(a: tuple, b: tuple, tol: float = 1e-3) -> bool:
    """Same entities and word labels; scores within ``tol`` (rounded to 3-4 digits in the answer)."""
    (ea, wa), (eb, wb) = a, b
    if [e[:3] for e in ea] != [e[:3] for e in eb] or [w[:3] for w in wa] != [w[:3] for w in wb]:
        return False
    return all(abs(x[3] - y[3]) <= tol for x, y in zip(ea, eb)) and all(abs(x[3] - y[3]) <= tol for x, y in zip(wa, wb))


def burst(clients: list[Any], texts: list[str], n: int, offset: int) -> list[tuple[float, int, Any]]:
    gate = threading.Barrier(n)

    def one(i: int) -> tuple[float, int, Any]:
        k = (offset + i) % len(texts)
        gate.wait(timeout=120)
        t0 = time.perf_counter()
        try:
            out = clients[i].predict(texts[k], "default", api_name="/tag")
        except Exception as err:  # noqa: BLE001 -- reported per request
            return 1000 * (time.perf_counter() - t0), k, err
        return 1000 * (time.perf_counter() - t0), k, answer(out)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(one, range(n)))


def thread_cpu(pid: int) -> dict[int, float]:
    import psutil

    return {t.id: t.user_time + t.system_time for t in psutil.Process(pid).threads()}


def measure(url: str, texts: list[str], rounds: int, pid: int) -> dict[str, Any]:
    from gradio_client import Client

    clients = [Client(url, verbose=False, ssl_verify=False) for _ in range(max(LEVELS))]
    for c in clients:
        c.predict(texts[0], "default", api_name="/tag")  # each session warm (its first call fetches nothing more)
    reference, lone = [], []
    for _ in range(2):
        for t in texts:
            t0 = time.perf_counter()
            out = clients[0].predict(t, "default", api_name="/tag")
            lone.append(1000 * (time.perf_counter() - t0))
            if len(reference) < len(texts):
                reference.append(answer(out))
    out: dict[str, Any] = {"lone": lone, "levels": {}}
    for n in LEVELS:
        ms, errors, matched, total = [], [], 0, 0
        before, client0 = thread_cpu(pid), time.process_time()
        for r in range(rounds):
            for latency, k, got in burst(clients, texts, n, r * 7):
                if isinstance(got, Exception):
                    errors.append(f"{type(got).__name__}: {got}")
                    continue
                ms.append(latency)
                total += 1
                matched += same(got, reference[k])
        after, requests = thread_cpu(pid), max(1, n * rounds)
        spent = sorted((1000 * (after[t] - before.get(t, 0.0)) / requests for t in after), reverse=True)
        out["levels"][n] = {"ms": ms, "errors": errors, "matched": matched, "total": total, "load": load_average(),
                            "cpu": (sum(spent), spent[0], spent[1], 1000 * (time.process_time() - client0) / requests)}
    return out


def run(mode: str, batch: int, texts: list[str], rounds: int, tmp: Path) -> dict[str, Any]:
    """One app run: ``on`` with ``TAGGER_TAG_BATCH=batch`` (batches on the CPU too), ``off`` with 0."""
    env = {"TAGGER_TAG_BATCH": str(batch if mode == "on" else 0)}
    proc, url, log = start_app(tmp, env)
    try:
        decision = wait_ready(url, log, proc)
        result = measure(url, texts, rounds, proc.pid)
    finally:
        stop_app(proc)
    result.update(mode=f"on, {batch}" if mode == "on" else "off", decision=decision)
    return result


def fmt_ms(values: list[float], p: float) -> str:
    return f"{quantile(values, p):,.0f}" if values else "-"


def table(runs: list[dict[str, Any]]) -> list[str]:
    lines = [("| batching | callers | requests | p50 ms | p95 ms | max ms | same answer as alone | refused/failed | app CPU ms per request "
             "(busiest thread, next) | bench client CPU ms per request | load after (1 min) |"),
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in runs:
        lone = r["lone"]
        lines.append(f"| {r['mode']} | 1, one after the other | {len(lone)} | {statistics.median(lone):,.0f} | {fmt_ms(lone, 0.95)} | "
                     f"{max(lone):,.0f} | (reference) | 0 | | | |")
        for n, lv in r["levels"].items():
            ms, (total, first, second, client) = lv["ms"], lv["cpu"]
            lines.append(f"| {r['mode']} | {n} at once | {len(ms) + len(lv['errors'])} | "
                         f"{statistics.median(ms) if ms else 0:,.0f} | {fmt_ms(ms, 0.95)} | {max(ms) if ms else 0:,.0f} | "
                         f"{lv['matched']}/{lv['total']} | {len(lv['errors'])} | {total:.1f} ({first:.1f}, {second:.1f}) | {client:.1f} | "
                         f"{lv['load'].split(' / ')[0]} |")
    return lines


def verdict(runs: list[dict[str, Any]]) -> list[str]:
    out = []
    for mode in dict.fromkeys(r["mode"] for r in runs):
        mine = [r for r in runs if r["mode"] == mode]
        lone = [x for r in mine for x in r["lone"]]
        crowd = [x for r in mine for x in r["levels"][max(LEVELS)]["ms"]]
        p50_lone, p95_crowd = statistics.median(lone), quantile(crowd, 0.95)
        ok = p95_crowd <= TARGET_P95_MS and p95_crowd <= TARGET_RATIO * p50_lone
        out.append(f"- batching {mode}: 20 callers p95 {p95_crowd:,.0f} ms (target <= {TARGET_P95_MS:.0f}); lone p50 "
                   f"{p50_lone:,.0f} ms, ratio {p95_crowd / p50_lone:.1f}x (target <= {TARGET_RATIO:g}x): "
                   f"{'met' if ok else 'NOT met'}")
    return out


def padding(texts: list[str], repeats: int = 5) -> list[str]:
    """The model alone, one thread: the texts' windows one at a time (what tagging each text alone runs)
    against all of them in one padded batch (what batching could at best buy), CPU ms, fastest of ``repeats``."""
    import torch

    from tagger.features import collate, make_features
    from tagger.meta import default_model_path
    from tagger.model import load_tagger
    from tagger.onnx_backend import OnnxModel
    from tagger.words import split_words

    torch.set_num_threads(1)
    tagger = load_tagger(default_model_path(), device="cpu")
    feats = make_features(tagger.tokenizer, [[w for w, _, _ in split_words(t)] for t in texts], 256, overlap=True)
    pad = tagger.tokenizer.pad_token_id or 0
    rows = []
    for name, model in (("torch", tagger.model), ("ONNX Runtime", OnnxModel(tagger.model, quantize=False, threads=1))):
        def run(groups: list[list[Any]], model: Any = model) -> None:
            with torch.inference_mode():
                for g in groups:
                    b = collate(g, pad)
                    model(b["input_ids"], b["attention_mask"], b["case_ids"])

        timings = {}
        for label, groups in (("one by one", [[f] for f in feats]), ("one padded batch", [list(feats)])):
            run(groups)
            best = float("inf")
            for _ in range(repeats):
                t0 = time.process_time()
                run(groups)
                best = min(best, time.process_time() - t0)
            timings[label] = 1000 * best
        rows.append(f"| {name} | {timings['one by one']:,.0f} | {timings['one padded batch']:,.0f} |")
    return [f"The model alone on the {len(feats)} windows of the {len(texts)} texts, one thread, CPU ms (fastest of {repeats}):", "",
            "| backend | one by one | one padded batch |", "| --- | ---: | ---: |", *rows]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5, help="bursts per level")
    ap.add_argument("--pairs", type=int, default=1, help="app runs per mode (on, off, on, off ...)")
    ap.add_argument("--batch", type=int, nargs="+", default=[16, 4], help="TAGGER_TAG_BATCH of the batching-on runs (one run each)")
    ap.add_argument("--only", choices=("on", "off"), help="one mode only")
    ap.add_argument("--write", action="store_true", help="put the section into docs/BENCHMARKS.md")
    args = ap.parse_args()
    texts = pick_sentences(CONLL / "eng.testb", max(LEVELS))
    lines = header("Serving: concurrent Tag callers, batching on and off (bench_serving.py)")
    modes = [("on", b) for b in args.batch if args.only != "off"] + ([("off", 0)] if args.only != "on" else [])
    runs = []
    with tempfile.TemporaryDirectory(prefix="bench-serving-") as tmp:
        for _ in range(args.pairs):
            for mode, batch in modes:
                runs.append(run(mode, batch, texts, args.rounds, Path(tmp)))
                print(f"{runs[-1]['mode']}: done, load {load_average()}", file=sys.stderr)
    lines += [
        (f"App: `python app.py` with its defaults (1 tagging thread, queue 32, `TAGGER_TAG_BATCH_MS` 5); batching on, N: "
         "`TAGGER_TAG_BATCH=N` (batches of up to N, two batches at once, on the CPU too); off: `TAGGER_TAG_BATCH=0` (each request "
         "alone, two at a time: what the default `auto` does for a model on the CPU). "
         f"Texts: {len(texts)} CoNLL-2003 eng.testb sentences of 30-50 words; {args.rounds} bursts per level, each caller its own "
         "gradio_client session (`ssl_verify=False`: plain http on 127.0.0.1), released together."),
        "",
        "Backend chosen at start-up (app log): " + "; ".join(sorted({f"`{r['decision']}`" for r in runs})),
        "",
        *table(runs),
        "",
        *verdict(runs),
        "",
        *padding(texts),
    ]
    publish("serving", lines, args.write)


if __name__ == "__main__":
    main()
