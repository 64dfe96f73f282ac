"""What does the error analysis cost? ``python -m tagger evaluate`` on the whole CoNLL-2003 test set
(3,453 sentences) plain, with ``--errors OUT.jsonl --predictions OUT.conll`` (error classes, confusion
matrix, per-sentence error list, both files written) and with ``--json`` (scores + error counts +
confusion matrix). Each run is the CLI's ``main()`` in this process: read the file, load the model,
tag, score, analyse, write. The modes alternate (the order flips each round) and the fastest of
``--rounds`` runs of each counts, so a busy spell on the shared machine hits all modes alike.
Target: ``--errors`` at most 1.3x the plain run.

    python bench/bench_evaluate.py [--model models/default] [--rounds 3] [--threads N] [--write]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import tempfile
import time
from pathlib import Path

from common import CONLL, REPO, header, publish

from tagger.cli import main as cli_main


def run_cli(argv: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) of one ``python -m tagger`` command run in
    this process (output swallowed)."""
    t0, c0 = time.perf_counter(), time.process_time()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        rc = cli_main(argv)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    if rc != 0:
        raise SystemExit(f"evaluate failed (exit {rc}): {' '.join(argv)}")
    return wall, cpu


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default=str(REPO / "models" / "default"))
    ap.add_argument("--data", default=str(CONLL / "eng.testb"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (default: torch's own choice)")
    ap.add_argument("--write", action="store_true", help="also put the section into docs/BENCHMARKS.md")
    args = ap.parse_args(argv)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)

    lines = header("Error analysis: `evaluate` plain vs `--errors --predictions` vs `--json`")
    out = Path(tempfile.mkdtemp(prefix="bench-evaluate-"))
    base = ["evaluate", "--data", args.data, "--model", args.model]
    modes = {
        "plain `evaluate` (scores)": base,
        "`--errors OUT.jsonl --predictions OUT.conll`": [*base, "--errors", str(out / "errors.jsonl"), "--predictions", str(out / "pred.conll")],
        "`--json` (scores, error counts, confusion)": [*base, "--json"],
    }
    run_cli(base)  # warm-up: spaCy/tokenizer/torch first-use costs are not what is measured
    wall: dict[str, list[float]] = {m: [] for m in modes}
    cpu: dict[str, list[float]] = {m: [] for m in modes}
    for r in range(args.rounds):
        for m in list(modes) if r % 2 == 0 else list(reversed(modes)):
            w, c = run_cli(modes[m])
            wall[m].append(w)
            cpu[m].append(c)
            print(f"round {r + 1} {m}: {w:.2f} s wall, {c:.2f} s CPU", file=sys.stderr)

    from tagger.analysis import analyse

    n_err = sum(1 for _ in (out / "errors.jsonl").open())
    blocks = [[row.split() for row in b.splitlines()] for b in (out / "pred.conll").read_text().split("\n\n") if b.strip()]
    gold_tags = [[r[1] for r in b] for b in blocks]
    t0 = time.perf_counter()
    a = analyse(gold_tags, [[r[2] for r in b] for b in blocks])
    t_analyse = time.perf_counter() - t0

    plain = next(iter(modes))
    bw, bc = {m: min(v) for m, v in wall.items()}, {m: min(v) for m, v in cpu.items()}
    lines += [
        (f"Model `{Path(args.model).name}` on `{Path(args.data).name}`: {len(gold_tags):,} sentences, "
         f"{sum(map(len, gold_tags)):,} words; {n_err:,} sentences with errors written. {args.rounds} rounds, the modes "
         "alternating (order flipped each round), fastest run of each; every run in brackets. CPU = this process's "
         "user + system time, which a busy machine disturbs less than wall time."),
        "",
        "| command | wall s (best) | wall ratio to plain | CPU s (best) | CPU ratio to plain | wall runs | CPU runs |",
        "| --- | ---: | ---: | ---: | ---: | --- | --- |",
        *[f"| {m} | {bw[m]:.2f} | {bw[m] / bw[plain]:.3f}x | {bc[m]:.2f} | {bc[m] / bc[plain]:.3f}x | "
          f"{', '.join(f'{t:.1f}' for t in wall[m])} | {', '.join(f'{t:.1f}' for t in cpu[m])} |" for m in modes],
        "",
        (f"The analysis alone (`tagger.analysis.analyse`: {a.n_gold:,} gold and {a.n_pred:,} predicted entities "
         f"paired, confusion matrix, per-sentence lists) takes {t_analyse:.3f} s; the rest of every run is reading "
         "the file, loading the model, tagging and scoring. Target: `--errors` at most 1.3x plain."),
    ]
    publish("evaluate", lines, args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
