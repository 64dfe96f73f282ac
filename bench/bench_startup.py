"""Cold start of the default tagger: each run is a fresh Python process that times
``import torch, transformers``, ``import tagger.predict``, ``load_tagger(model)`` (the issue's
"loading it takes <= 3 s"), and the first ``Predictor.predict`` (which loads spaCy).

    python bench/bench_startup.py [--model models/default] [--runs 5] [--write]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from common import REPO, header, publish

CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
import torch, transformers
t1 = time.perf_counter()
from tagger.model import load_tagger
from tagger.predict import Predictor
t2 = time.perf_counter()
tagger = load_tagger(sys.argv[1])
t3 = time.perf_counter()
pred = Predictor(tagger).predict("Angela Merkel met Emmanuel Macron in Paris on Tuesday.")
t4 = time.perf_counter()
print(json.dumps({"imports": t1 - t0, "tagger": t2 - t1, "load": t3 - t2, "first": t4 - t3,
                  "model_class": type(tagger.model.hf).__module__ + "." + type(tagger.model.hf).__name__,
                  "entities": [(e.text, e.label) for e in pred.entities]}))
"""

TARGET_S = 3.0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="models/default")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--write", action="store_true", help="also put the section into docs/BENCHMARKS.md")
    args = ap.parse_args(argv)

    lines = header("Cold start: loading the default tagger")
    runs = []
    for _ in range(args.runs):
        out = subprocess.run([sys.executable, "-c", CHILD, args.model], cwd=REPO, capture_output=True, text=True, check=True,
                             env=dict(os.environ, PYTHONPATH=str(REPO)))
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    med = {k: statistics.median(r[k] for r in runs) for k in ("imports", "tagger", "load", "first")}
    worst = max(r["load"] for r in runs)
    lines += [
        f"Model `{Path(args.model).name}` ({runs[0]['model_class']}), {args.runs} fresh processes; median seconds:",
        "",
        "| `import torch, transformers` | `import tagger.predict` | `load_tagger()` | first `predict()` | process start to first answer |",
        "| ---: | ---: | ---: | ---: | ---: |",
        f"| {med['imports']:.2f} | {med['tagger']:.2f} | {med['load']:.2f} | {med['first']:.2f} | {sum(med.values()):.2f} |",
        "",
        (f"`load_tagger()`: median {med['load']:.2f} s, slowest {worst:.2f} s, "
         f"{'within' if worst <= TARGET_S else 'over'} the {TARGET_S:g} s target. The first answer: {runs[0]['entities']}."),
    ]
    publish("startup", lines, args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
