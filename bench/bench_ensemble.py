"""What one averaged model gives up against running every model (issue #15): entity F1 on CoNLL-2003
dev and test (as published, all lowercase, ALL CAPS; Viterbi decoding) of

- each model alone,
- the weight average of the models (``tagger.average``: one model, the speed of one),
- their output ensemble: every model tags every sentence, the word label probabilities are averaged,
  then decoded with the IOB2 constraints (N models: N times the compute and the memory).

    python bench/bench_ensemble.py runs/seed-13 runs/seed-2 runs/seed-3 --json OUT

Sentence-level models only (no document context): each sentence is read alone, as the shipped
default reads it. The ensemble's word probabilities come from the models' forward pass as
``Predictor.tag_words`` computes them; a check at the start asserts that one model through this
path gives Predictor's labels.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from bench_robustness import VARIANTS, variant
from common import CONLL

from tagger.data import Sentence, read_file
from tagger.metrics import score


def word_logps(predictor: Any, sentences: Sequence[Sequence[str]]) -> list[np.ndarray]:
    """Log-probabilities of every label for every word (its first sub-token), sentence by sentence."""
    import torch

    from tagger.features import iter_batches, make_features

    feats = make_features(predictor.tagger.tokenizer, sentences, predictor.max_length, overlap=True)
    out = [np.zeros((len(s), len(predictor.labels)), np.float32) for s in sentences]
    with torch.inference_mode():
        for group, batch in iter_batches(feats, predictor.batch_size, predictor.pad_id):
            logits = predictor.model(batch["input_ids"], batch["attention_mask"], batch["case_ids"])
            rows = np.array([r for r, f in enumerate(group) for _ in f.positions], dtype=np.int64)
            cols = np.array([p for f in group for p in f.positions], dtype=np.int64)
            picked = logits.float().numpy()[rows, cols]
            logp = picked - picked.max(-1, keepdims=True)
            logp -= np.log(np.exp(logp).sum(-1, keepdims=True))
            k = 0
            for f in group:
                for s, words in f.owned():
                    for w in words:
                        out[s][w] = logp[k]
                        k += 1
    return out


def decode(labels: Sequence[str], logps: Sequence[Sequence[np.ndarray]]) -> list[list[str]]:
    """Mean of the models' word probabilities, then the best well-formed IOB2 sequence per sentence."""
    from tagger.decode import transitions, viterbi

    constraints = transitions(labels)
    assert constraints is not None
    out = []
    for per_model in zip(*logps):
        if not len(per_model[0]):
            out.append([])
            continue
        mean = np.mean([np.exp(lp) for lp in per_model], axis=0)
        out.append([labels[j] for j in viterbi(np.log(mean + 1e-12), *constraints)])
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models", nargs="+", help="sentence-level checkpoints of one base, head and label set")
    ap.add_argument("--data", default=str(CONLL))
    ap.add_argument("--sets", nargs="+", default=["dev", "test"], choices=("dev", "test"))
    ap.add_argument("--json", default="", help="also write the results to this file")
    a = ap.parse_args()
    import dataclasses

    from tagger.average import average_taggers
    from tagger.model import load_tagger
    from tagger.predict import Predictor

    data = Path(a.data)
    gold: dict[str, list[Sentence]] = {"dev": read_file(data / "eng.testa").sentences, "test": read_file(data / "eng.testb").sentences}
    taggers = [load_tagger(m, device="cpu") for m in a.models]
    if any(t.config.context for t in taggers):
        raise SystemExit("sentence-level models only (trained without --doc-context)")
    predictors = [Predictor(dataclasses.replace(t, config=t.config.replace(decode="viterbi")), batch_size=64) for t in taggers]
    labels = predictors[0].labels
    if any(p.labels != labels for p in predictors):
        raise SystemExit("the models' label sets differ")
    soup = Predictor(average_taggers(a.models, decode="viterbi"), batch_size=64)

    check = [s.words for s in gold["dev"][:200]]
    assert decode(labels, [word_logps(predictors[0], check)]) == [[lab for lab, _ in p] for p in predictors[0].tag_words(check)]

    rows: dict[str, dict[str, float]] = {m: {} for m in [*a.models, "weight average", "output ensemble"]}
    seconds = {"weight average": 0.0, "output ensemble": 0.0}
    for name in a.sets:
        for v in VARIANTS:
            sents = variant([Sentence(list(s.words), list(s.tags), s.line, i) for i, s in enumerate(gold[name])], v)
            words, tags = [s.words for s in sents], [s.tags for s in sents]
            key = f"{name} {v}"
            t0 = time.perf_counter()
            logps = [word_logps(p, words) for p in predictors]
            rows["output ensemble"][key] = round(score(tags, decode(labels, logps))["f1"], 2)
            seconds["output ensemble"] += time.perf_counter() - t0
            for m, lp in zip(a.models, logps):
                rows[m][key] = round(score(tags, decode(labels, [lp]))["f1"], 2)
            t0 = time.perf_counter()
            rows["weight average"][key] = round(score(tags, [[lab for lab, _ in p] for p in soup.tag_words(words)])["f1"], 2)
            seconds["weight average"] += time.perf_counter() - t0
            print(key, {k: r[key] for k, r in rows.items()}, flush=True)
    cols = [f"{n} {v}" for n in a.sets for v in VARIANTS]
    print("| model | " + " | ".join(cols) + " |")
    print("| --- |" + " ---: |" * len(cols))
    for k, r in rows.items():
        print(f"| {k} | " + " | ".join(f"{r[c]:.2f}" for c in cols) + " |")
    print(f"tagging time, all columns: weight average {seconds['weight average']:.0f} s, "
          f"output ensemble {seconds['output ensemble']:.0f} s ({len(a.models)} models)")
    if a.json:
        Path(a.json).write_text(json.dumps({"models": a.models, "rows": rows, "seconds": seconds}, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
