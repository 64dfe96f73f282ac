"""Web app under load: 20 concurrent Tag requests through the API (gradio_client) while a real
fine-tuning job runs in the app's training worker, against the same 20 requests with no job.

Starts ``python app.py`` as a subprocess on a free 127.0.0.1 port with the default settings
(default model, queue size, tagging threads; app-trained models go to a temp folder), then:

1. tags each of 20 CoNLL-2003 eng.testb sentences (30-50 words) alone, one after the other
   (the reference answers);
2. fires the 20 requests at once, one gradio_client session each, with no training job;
3. starts a fine-tuning job through ``api_name="train"`` (FIN5.txt, 3 epochs, the packaged
   MiniLM base, the app's other defaults), waits until the worker reports training steps,
   fires the same 20 requests at once again, then waits for the job to finish.

Every answer of 2 and 3 is compared with 1 (entities with scores, and each word's label and
confidence). Latency = client call to answer, queue wait included.

    python bench/bench_load.py [--model models/default] [--requests 20] [--epochs 3] [--queue-max N] [--write]
"""

from __future__ import annotations

import argparse
import math
import os
import re
import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench_app import first_answer
from common import CONLL, DATA, REPO, footer, header, quantile, running_app, write_section  # adds the repo to sys.path

# 1-min load averages above which other work shared the 2 cores: before the app starts; after the
# burst with no job (the app's tagging threads); after the burst during training (+ the worker's 2 threads)
HIGH_LOAD = {"at start": 1.0, "no training job": 2.5, "during training": 4.5}


def pick_sentences(path: Path, n: int, lo: int = 30, hi: int = 50) -> list[str]:
    """The first n distinct sentences of lo..hi words in the file, words joined by spaces."""
    from tagger.data import read_file

    out: list[str] = []
    for s in read_file(path).sentences:
        text = " ".join(s.words)
        if lo <= len(s.words) <= hi and text not in out:
            out.append(text)
            if len(out) == n:
                return out
    raise SystemExit(f"{path} has fewer than {n} sentences of {lo}-{hi} words")


def answer(result: Any) -> tuple:
    """What a tag answer says about the text (not the timing line): entities with scores, word table."""
    return result[2], result[4]["data"]



def _ordinal(n: int) -> str:
    """English ordinal.

    >>> [_ordinal(n) for n in (1, 2, 3, 4, 11, 19, 22)]
    ['1st', '2nd', '3rd', '4th', '11th', '19th', '22nd']
    """
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def burst(clients: list[Any], texts: list[str], model: str) -> list[dict[str, Any]]:
    """All requests at once (one thread and session each); per request: latency, answer or error."""
    from gradio_client.utils import QueueError

    gate = threading.Barrier(len(texts))

    def one(i: int) -> dict[str, Any]:
        gate.wait(timeout=120)
        t0 = time.perf_counter()
        try:
            result = clients[i].predict(texts[i], model, api_name="/tag")
        except QueueError as err:
            return {"ms": 1000 * (time.perf_counter() - t0), "answer": None, "error": f"refused: {err}"}
        except Exception as err:  # noqa: BLE001 - reported per request
            return {"ms": 1000 * (time.perf_counter() - t0), "answer": None, "error": f"{type(err).__name__}: {err}"}
        return {"ms": 1000 * (time.perf_counter() - t0), "answer": answer(result), "error": None}

    with ThreadPoolExecutor(len(texts)) as pool:
        return list(pool.map(one, range(len(texts))))


def summary(runs: list[dict[str, Any]]) -> tuple[str, str, str]:
    ms = [r["ms"] for r in runs if r["error"] is None]
    if not ms:
        return "-", "-", "-"
    return f"{statistics.median(ms):,.0f}", f"{quantile(ms, 0.95):,.0f}", f"{max(ms):,.0f}"


def fmt_load(values: tuple[float, float, float]) -> str:
    return " / ".join(f"{x:.2f}" for x in values)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", type=Path, default=REPO / "models" / "default", help="served as the app's default model")
    ap.add_argument("--requests", type=int, default=20)
    ap.add_argument("--train", type=Path, default=DATA / "sec-filings" / "FIN5.txt")
    ap.add_argument("--texts", type=Path, default=CONLL / "eng.testb")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--queue-max", type=int, help="TAGGER_QUEUE_MAX for the app (default: the environment's, else 16)")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds for start-up, and again for the training job")
    ap.add_argument("--settle", type=float, default=20,
                    help="seconds to wait after the first answer (the app starts an idle training worker)")
    ap.add_argument("--write", action="store_true", help="also write the section into docs/BENCHMARKS.md")
    args = ap.parse_args()
    for path in (args.model / "config.json", args.train, args.texts):
        if not path.is_file():
            raise SystemExit(f"missing {path}")

    from gradio_client import Client, handle_file

    from demo.service.settings import DEFAULT_BASES, AppSettings
    from tagger.config import TrainConfig

    loads = {"at start": os.getloadavg()}
    lines = header("Web app under load: concurrent Tag requests during fine-tuning")
    texts = pick_sentences(args.texts, args.requests)
    if args.queue_max is not None:
        os.environ["TAGGER_QUEUE_MAX"] = str(args.queue_max)
    queue_max = AppSettings.from_env().queue_max_size  # what the app subprocess reads from the same environment
    base_label, base = next(iter(DEFAULT_BASES.items()))
    cfg = TrainConfig(epochs=args.epochs)
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp, running_app(tmp, args.model) as (proc, url, t0):
        first_answer(url, proc, t0, args.timeout)
        time.sleep(args.settle)
        solo_client = Client(url, verbose=False)
        print("tagging each text alone ...", flush=True)
        reference = [answer(solo_client.predict(t, "default", api_name="/tag")) for t in texts]
        solo_ms = []
        for t in texts:  # second pass, warm: the latency of one request with nothing else going on
            t1 = time.perf_counter()
            solo_client.predict(t, "default", api_name="/tag")
            solo_ms.append(1000 * (time.perf_counter() - t1))
        clients = [Client(url, verbose=False) for _ in texts]
        print(f"{len(texts)} concurrent requests, no training job ...", flush=True)
        idle = burst(clients, texts, "default")
        loads["no training job"] = os.getloadavg()

        print("starting the training job ...", flush=True)
        train_client = Client(url, verbose=False, download_files=tmp)
        job = train_client.submit(handle_file(str(args.train)), None, base_label, cfg.head, cfg.epochs, cfg.lr,
                                  cfg.batch_size, cfg.max_length, -1, api_name="/train")
        t_train = time.perf_counter()
        deadline = t_train + args.timeout
        while not any(re.search(r"step \d", o[0] or "") for o in job.outputs()):
            if job.done() or time.perf_counter() > deadline:
                raise SystemExit(f"the training job did not start training: {job.status()} {job.outputs()[-1:]}")
            time.sleep(0.5)
        status_before = job.outputs()[-1][0]
        print(f"training ({status_before}); {len(texts)} concurrent requests ...", flush=True)
        busy = burst(clients, texts, "default")
        loads["during training"] = os.getloadavg()
        status_after = job.outputs()[-1][0]
        still_training = not job.done()
        print("waiting for the training job to finish ...", flush=True)
        try:
            final = job.result(timeout=max(1.0, deadline - time.perf_counter()))
            train_outcome = re.sub(r"\*\*", "", final[0])
        except Exception as err:  # noqa: BLE001 - reported in the section
            train_outcome = f"failed: {type(err).__name__}: {err}"
        train_s = time.perf_counter() - t_train

    def match(r: dict[str, Any], i: int) -> str:
        return r["error"] or ("yes" if r["answer"] == reference[i] else "**no**")

    n_ok_idle = sum(r["error"] is None for r in idle)
    n_ok_busy = sum(r["error"] is None for r in busy)
    answered = [(r, i) for run in (idle, busy) for i, r in enumerate(run) if r["error"] is None]
    all_match = all(r["answer"] == reference[i] for r, i in answered)
    refused = sum(r["error"] is not None and r["error"].startswith("refused") for run in (idle, busy) for r in run)
    words = [len(t.split()) for t in texts]
    p50_i, p95_i, max_i = summary(idle)
    p50_b, p95_b, max_b = summary(busy)
    model = args.model.relative_to(REPO) if args.model.is_relative_to(REPO) else args.model
    high = [f"{k} {v[0]:.2f}" for k, v in loads.items() if v[0] > HIGH_LOAD[k]]
    lines += [
        (f"- app: `python app.py --default-model {model}` with the default settings"
         f"{'' if args.queue_max is None else ' but TAGGER_QUEUE_MAX'}: queue `max_size` {queue_max} (`TAGGER_QUEUE_MAX`), "
         f"Tag concurrency limit 2, {os.environ.get('TAGGER_TAG_THREADS', '1')} torch thread for tagging, training "
         f"worker with all cores"),
        (f"- texts: the first {len(texts)} distinct sentences of 30-50 words in `{args.texts.name}` ({min(words)}-{max(words)} "
         f"words, words joined by spaces), model `default`; each request from its own gradio_client session, released "
         f"together by a barrier; latency = `predict()` call to answer, queue wait included"),
        (f"- training job: `{args.train.name}` through `api_name=\"train\"`, {cfg.epochs} epochs from `{base}` "
         f"(head {cfg.head}, batch {cfg.batch_size}, lr {cfg.lr:g}, max length {cfg.max_length}, 10% held out); "
         f"the burst starts once the worker reports steps (`{status_before}`)"),
        "",
        "| | no training job | during training |",
        "| --- | ---: | ---: |",
        f"| answered | {n_ok_idle}/{len(texts)} | {n_ok_busy}/{len(texts)} |",
        f"| latency p50 ms | {p50_i} | {p50_b} |",
        f"| latency p95 ms | {p95_i} | {p95_b} |",
        f"| latency max ms | {max_i} | {max_b} |",
        (f"| load average after the burst (1/5/15 min) | {fmt_load(loads['no training job'])} | "
         f"{fmt_load(loads['during training'])} |"),
        "",
        (f"{'All' if all_match else '**Not all**'} {len(answered)} answers matched the answers of the same texts tagged "
         f"alone (entities with scores, every word's label and confidence). One request alone, one after the other, "
         f"warm: p50 {statistics.median(solo_ms):,.0f} ms, p95 {quantile(solo_ms, 0.95):,.0f} ms. Percentiles are "
         f"nearest-rank over the answered requests (p95 of {len(texts)} = the "
         f"{_ordinal(math.ceil(0.95 * len(texts)))} smallest)."),
        *([""] + [(f"**{refused} requests were refused** with gradio_client's `QueueError: Queue is full! Please try "
                   f"again.`: with {len(texts)} requests at once and 2 being tagged, {len(texts) - 2} wait, more than the "
                   f"queue's max_size of {queue_max}. Refused requests are not in the percentiles.")] if refused else []),
        "",
        (f"Training job: {'still running after the burst' if still_training else '**finished before the burst ended**'} "
         f"(`{status_after}`); it ended {train_s:,.0f} s after submission: {train_outcome}"),
        "",
        "| # | words | no training: ms | answer same | during training: ms | answer same |",
        "| ---: | ---: | ---: | --- | ---: | --- |",
    ]
    for i, (a, b) in enumerate(zip(idle, busy)):
        lines.append(f"| {i + 1} | {words[i]} | {a['ms']:,.0f} | {match(a, i)} | {b['ms']:,.0f} | {match(b, i)} |")
    if high:
        lines += ["", (f"**Note: the machine was busy with other work** (1-min load average {', '.join(high)}; quiet "
                       f"reads at most {', '.join(f'{k} {v:g}' for k, v in HIGH_LOAD.items())}): the two cores were "
                       "shared, so the latencies are upper bounds.")]
    text = "\n".join(lines + footer()) + "\n"
    print(text)
    if args.write:
        write_section("load", text)


if __name__ == "__main__":
    main()
