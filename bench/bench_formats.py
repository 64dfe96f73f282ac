"""The real data sets in ../shared/data, each in the format its authors published, read and
trained with no manual conversion: sentences, conversion outcome counts, dev F1 after 3 epochs
(UPOS accuracy for GUM) and wall time, through the library (``tagger.train.train_files``, the
path the CLI's ``train`` takes).

- ud-english-gum: CoNLL-U train -> UPOS, scored on the dev file;
- prodigy-drugs: Prodigy span JSONL, ``drugs_eval.jsonl`` as dev;
- doccano-multileg-en: the 50 train files as one data set, the 10 test files (one data set) as dev
  (the corpus has no dev split).

    python bench/bench_formats.py [--epochs 3] [--only gum,drugs,multileg] [--write]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from common import DATA, header, publish

SETS = {
    "gum": ("ud-english-gum (UPOS)", lambda: [DATA / "ud-english-gum" / "en_gum-ud-train.conllu"],
            lambda: [DATA / "ud-english-gum" / "en_gum-ud-dev.conllu"]),
    "drugs": ("prodigy-drugs", lambda: [DATA / "prodigy-drugs" / "drugs_training.jsonl"],
              lambda: [DATA / "prodigy-drugs" / "drugs_eval.jsonl"]),
    "multileg": ("doccano-multileg-en (50 train files)", lambda: sorted((DATA / "doccano-multileg-en" / "train").glob("*.jsonl")),
                 lambda: sorted((DATA / "doccano-multileg-en" / "test").glob("*.jsonl"))),
}


def counts(conversion: dict[str, int]) -> str:
    return "; ".join(f"{k} {v:,}" for k, v in conversion.items()) or "–"


def run(key: str, epochs: int) -> tuple[str, str]:
    from tagger.config import TrainConfig
    from tagger.data import read_files
    from tagger.train import train_files

    name, train_paths, dev_paths = SETS[key]
    config = TrainConfig(epochs=epochs)
    t0 = time.perf_counter()
    train_set = read_files(train_paths(), **config.read_options())
    dev_set = read_files(dev_paths(), **config.read_options())
    read_s = time.perf_counter() - t0
    with tempfile.TemporaryDirectory(prefix=f"bench-formats-{key}-") as tmp:
        result = train_files(config, train_paths(), dev_paths(), Path(tmp) / "model", progress=False)
    wall = time.perf_counter() - t0
    plain = train_set.report.scheme == "plain"
    score = f"UPOS accuracy {result.dev['accuracy']:.2f}" if plain else f"F1 {result.dev['f1']:.2f}"
    r, d = train_set.report, dev_set.report
    row = (f"| {name} | {r.format} | {r.sentences:,} / {d.sentences:,} | {score} (best epoch {result.best_epoch}) | "
           f"{wall / 60:.1f} min (reading {read_s:.1f} s, training {result.loop_seconds:.0f} s) |")
    detail = f"- {name}: train {counts(r.conversion)}. Dev: {counts(d.conversion)}."
    print(row, flush=True)
    return row, detail


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--only", default=",".join(SETS), help="comma-separated: " + ", ".join(SETS))
    ap.add_argument("--write", action="store_true", help="put the section into docs/BENCHMARKS.md")
    args = ap.parse_args()
    from tagger.config import TrainConfig

    lines = header(f"Real data sets in their own formats, {args.epochs} epochs each (bench_formats.py)")
    keys = [k.strip() for k in args.only.split(",") if k.strip()]
    rows, details = [], []
    for key in keys:
        row, detail = run(key, args.epochs)
        rows.append(row)
        details.append(detail)
    c = TrainConfig(epochs=args.epochs)
    lines += [
        (f"Config: `TrainConfig` defaults with epochs={args.epochs}: base `{c.base}`, head {c.head}, lr {c.lr:g}, batch {c.batch_size}, "
         f"max_length {c.max_length}, doc_context {c.doc_context}, casing augmentation {c.case_lower}/{c.case_upper}/{c.case_unknown}, "
         f"device {c.device}. Scores: the best dev epoch's (seqeval entity F1; words for UPOS). Wall time includes reading "
         "both sets, training, the dev scoring each epoch and saving."), "",
        "| data set | format | sentences train / dev | dev score | wall time |",
        "| --- | --- | ---: | --- | --- |", *rows, "", "Conversion outcome counts (tagger.data report):", "", *details,
    ]
    publish("formats", lines, args.write)


if __name__ == "__main__":
    main()
