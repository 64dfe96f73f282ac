"""Tagging files: ``tagger.bulk.tag_file`` against the batched transformers pipeline.

The same file (CoNLL-2003 eng.testb as raw sentence text, one JSONL record per sentence, the words
joined by single spaces) tagged by:

- ``tag_file`` with the torch backend (``backend="keep"``: no hand-over);
- ``tag_file`` with a ``Predictor(backend="onnx")`` (ONNX Runtime fp32);
- ``transformers.pipeline("token-classification", model=models/default, trust_remote_code=True,
  aggregation_strategy="first")`` over the list of texts with ``batch_size=32``.

Ours read the JSONL and write a JSONL of spans (file to file); the pipeline gets the texts as a list
in memory and returns its entities. Words/s use one count for every path: the file's words as
CoNLL-2003 splits them. The fastest of ``--passes`` passes counts, in alternating order. Also: whether
the paths find the same entities, and where the time of the torch path goes (``--profile``).

    python bench/bench_tag_file.py [--sentences N] [--passes 2] [--profile] [--write]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from common import CONLL, REPO, fmt, header, publish

from tagger.bulk import AUTO_MIN_BYTES, AUTO_SAMPLE_WORDS, BATCH_WORDS, tag_file
from tagger.data import read_file
from tagger.predict import Predictor

MODEL = REPO / "models" / "default"


def write_jsonl(path: Path, texts: list[str]) -> None:
    with path.open("w", encoding="utf-8") as f:
        for i, t in enumerate(texts, 1):
            f.write(json.dumps({"id": i, "text": t}, ensure_ascii=False) + "\n")


def spans_of(path: Path) -> list[set[tuple[int, int, str]]]:
    with path.open(encoding="utf-8") as f:
        return [{(s["start"], s["end"], s["label"]) for s in json.loads(line)["spans"]} for line in f]


def agreement(a: list[set[tuple[int, int, str]]], b: list[set[tuple[int, int, str]]]) -> float:
    """% of the entities of either side found identically (start, end, type) by the other."""
    same = sum(len(x & y) for x, y in zip(a, b))
    total = sum(len(x | y) for x, y in zip(a, b))
    return 100.0 * same / max(total, 1)


def profile_shares(run: Callable[[], Any]) -> list[tuple[str, float]]:
    """Seconds of one run spent in each stage (cumulative time of the stage's function)."""
    prof = cProfile.Profile()
    prof.enable()
    run()
    prof.disable()
    stats = pstats.Stats(prof).stats  # type: ignore[attr-defined]
    stages = {
        "reading the JSONL (tagger.inputs)": ("inputs/records.py", "jsonl_documents"),
        "spaCy words and sentences (split_sentences)": ("words.py", "split_sentences"),
        "sub-tokens and windows (make_features)": ("features.py", "make_features"),
        "padding into tensors (collate)": ("features.py", "collate"),
        "the model's forward": ("model.py", "forward"),
        "Viterbi decoding": ("decode.py", "viterbi"),
        "entities, threshold (tagger.bulk._build)": ("bulk.py", "_build"),
        "writing the JSONL (tagger.outputs)": ("outputs.py", "write"),
    }
    total = max((v[3] for (file, _, name), v in stats.items() if name == "tag_file"), default=0.0)
    out = [("whole run (tag_file)", total)]
    for label, (file, name) in stages.items():
        out.append((label, sum(v[3] for (f, _, n), v in stats.items() if f.endswith(file) and n == name)))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default=str(MODEL))
    ap.add_argument("--data", default=str(CONLL / "eng.testb"))
    ap.add_argument("--sentences", type=int, default=0, help="first N sentences only (0 = all)")
    ap.add_argument("--passes", type=int, default=2, help="timed passes per path, in alternating order; the fastest counts")
    ap.add_argument("--profile", action="store_true", help="also profile one torch run: where the time goes")
    ap.add_argument("--threads", type=int, default=0,
                    help="torch (and so ONNX Runtime) threads for every path; 0: torch's default. On a machine shared with "
                         "other jobs, 1 thread each keeps torch's thread pool from waiting on busy cores")
    ap.add_argument("--write", action="store_true", help="also put the section into docs/BENCHMARKS.md")
    args = ap.parse_args(argv)

    from transformers import pipeline
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    warnings.filterwarnings("ignore")
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)  # before the header, which reports it; ONNX Runtime sessions take the same count
    lines = header("Tagging files: tag_file vs the batched transformers pipeline" + (f", {args.threads} thread(s)" if args.threads else ""))
    sents = [s.words for s in read_file(args.data).sentences]
    if args.sentences:
        sents = sents[: args.sentences]
    texts = [" ".join(w) for w in sents]
    n_words = sum(len(s) for s in sents)
    tmp = Path(tempfile.mkdtemp(prefix="bench-tag-file-"))
    src = tmp / "testb.jsonl"
    write_jsonl(src, texts)
    print(f"{len(texts)} texts, {n_words} words, {src.stat().st_size / 1e6:.1f} MB; model {args.model}", file=sys.stderr)

    torch_p = Predictor.from_dir(args.model, device="cpu")
    t = time.perf_counter()
    onnx_p = Predictor.from_dir(args.model, device="cpu", backend="onnx")
    onnx_setup = time.perf_counter() - t
    int8_p = Predictor.from_dir(args.model, device="cpu", backend="onnx", quantize=True)  # predict --backend onnx --quantize
    pipe = pipeline("token-classification", model=args.model, trust_remote_code=True, aggregation_strategy="first", device="cpu")
    # warm-up: thread pools, spaCy, the word-piece cache, the pipeline's lazy imports
    warm = tmp / "warm.jsonl"
    write_jsonl(warm, texts[:64])
    for p in (torch_p, onnx_p, int8_p):
        tag_file(p, warm, tmp / "warm-out.jsonl", backend="keep")
    list(pipe(texts[:32], batch_size=32))

    runs: dict[str, Callable[[], Any]] = {
        "tag_file, torch (backend=\"keep\")": lambda: tag_file(torch_p, src, tmp / "torch.jsonl", backend="keep"),
        "tag_file, ONNX Runtime fp32 (Predictor(backend=\"onnx\"))": lambda: tag_file(onnx_p, src, tmp / "onnx.jsonl", backend="keep"),
        "tag_file, torch, backend=\"auto\" (what predict --input runs)": lambda: tag_file(torch_p, src, tmp / "auto.jsonl"),
        "tag_file, ONNX Runtime int8 (predict --backend onnx --quantize)": lambda: tag_file(int8_p, src, tmp / "int8.jsonl", backend="keep"),
        "pipeline, list, batch_size=32": lambda: list(pipe(texts, batch_size=32)),
    }
    best: dict[str, float] = {}
    cpu: dict[str, float] = {}  # CPU seconds of this process (all threads): steadier than wall time on a shared machine
    outputs: dict[str, Any] = {}
    for i in range(args.passes):
        for name, fn in runs.items() if i % 2 == 0 else reversed(list(runs.items())):
            t, c = time.perf_counter(), time.process_time()
            outputs[name] = fn()
            dt, dc = time.perf_counter() - t, time.process_time() - c
            best[name] = min(best.get(name, dt), dt)
            cpu[name] = min(cpu.get(name, dc), dc)
            print(f"pass {i + 1}: {name}: {dt:.2f} s ({dc:.2f} CPU s), {n_words / dt:,.0f} words/s", file=sys.stderr)
    base = n_words / best["pipeline, list, batch_size=32"]
    base_cpu = n_words / cpu["pipeline, list, batch_size=32"]
    ref = spans_of(tmp / "torch.jsonl")
    pipe_spans = [{(e["start"], e["end"], e["entity_group"]) for e in ents} for ents in outputs["pipeline, list, batch_size=32"]]
    agree = {
        "tag_file, torch (backend=\"keep\")": 100.0,
        "tag_file, ONNX Runtime fp32 (Predictor(backend=\"onnx\"))": agreement(ref, spans_of(tmp / "onnx.jsonl")),
        "tag_file, torch, backend=\"auto\" (what predict --input runs)": agreement(ref, spans_of(tmp / "auto.jsonl")),
        "tag_file, ONNX Runtime int8 (predict --backend onnx --quantize)": agreement(ref, spans_of(tmp / "int8.jsonl")),
        "pipeline, list, batch_size=32": agreement(ref, pipe_spans),
    }
    auto_backend = outputs["tag_file, torch, backend=\"auto\" (what predict --input runs)"].backend
    lines += [
        (f"Model `{Path(args.model).name}`; data `{Path(args.data).name}`: {len(texts):,} sentences as raw text, one JSONL record "
         f"each ({src.stat().st_size / 1e6:.1f} MB), {n_words:,} words (the words/s of every path use this count). "
         f"Ours: file to file (read, spaCy words and sentences, {BATCH_WORDS:,}-word batches across documents, windows batched by "
         "exact length, write spans). Pipeline: the texts as a list in memory. Same entities: % of the entities of either "
         "side that the other has with the same start, end and type (the pipeline's \"first\" grouping splits some words "
         "at punctuation, and spaCy splits some at hyphens: `AL-AIN`). `backend=\"auto\"` (the default of `predict --input`), "
         f"on files over {AUTO_MIN_BYTES / 1e3:g} KB with more than one thread, tags a first batch of {AUTO_SAMPLE_WORDS:,} words "
         "with torch and again with ONNX Runtime, and goes on with ONNX Runtime when the labels agree; "
         f"here it ended on: {auto_backend}."),
        "",
        (f"| path | seconds (fastest of {args.passes}) | words/s | vs batched pipeline | CPU seconds | words per CPU second "
         "| vs batched pipeline (CPU) | same entities as torch |"),
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, sec in best.items():
        wps, wpc = n_words / sec, n_words / cpu[name]
        lines.append(f"| {name} | {sec:.2f} | {fmt(wps)} | {wps / base:.2f}x | {cpu[name]:.2f} | {fmt(wpc)} | {wpc / base_cpu:.2f}x "
                     f"| {agree[name]:.2f}% |")
    lines += ["", (f"CPU seconds: the process's CPU time over all its threads (`time.process_time`), the fastest of the passes; "
                   "with one thread it is the work done whatever else the machine runs, while wall time also counts the waits "
                   "for a busy core (with several threads it also counts their spin-waiting). One-time setup, not in the timings: "
                   f"the ONNX export {onnx_setup:.1f} s (cached on disk by weight hash).")]
    if args.profile:
        shares = profile_shares(runs["tag_file, torch (backend=\"keep\")"])
        total = shares[0][1] or 1.0
        lines += ["", "Where the time of one torch run goes (cProfile, cumulative seconds; profiling slows the Python parts):", "",
                  "| stage | seconds | share |", "| --- | ---: | ---: |"]
        lines += [f"| {label} | {sec:.2f} | {100 * sec / total:.1f}% |" for label, sec in shares]
    publish("tag-file" + (f"-{args.threads}-thread" if args.threads else ""), lines, args.write)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
