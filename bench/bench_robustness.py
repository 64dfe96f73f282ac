"""Case robustness and export parity (issue #15): entity F1 on CoNLL-2003 dev and test as
published, all lowercase and ALL CAPS, for each model given; and how often
``transformers.pipeline("token-classification", aggregation_strategy="first")`` gives the same
word label as our Predictor on the same test sentences.

    python bench/bench_robustness.py models/default runs/linear --pipeline-sentences 1500

Sentences are read within their documents (``-DOCSTART-``), as ``python -m tagger evaluate`` does.
The pipeline gets each test sentence as text (words joined by single spaces, one sentence per
call, as a user would pass text). ``agreement``: with ``aggregation_strategy="first"``, the type
of the entity group covering the word's first character (``O`` outside every group) against our
label's type (grouped output has no B-/I-). ``agreement_iob``: with ``aggregation_strategy="none"``,
the label of the word's first sub-token against ours, B-/I- included. The pipeline's "first"
groups split words at punctuation ("B." is two words to it), so its grouped entities, and the F1
computed from them (``f1_pipeline_grouped``), differ from ours even where every token agrees.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tagger.data import Sentence, read_file
from tagger.metrics import score

VARIANTS = ("published", "lower", "upper")


def variant(sentences: Sequence[Sentence], name: str) -> list[Sentence]:
    """The sentences with their words as published, lowercased or uppercased (tags unchanged).

    >>> [s.words for s in variant([Sentence(["EU", "rejects"], ["B-ORG", "O"])], "lower")]
    [['eu', 'rejects']]
    """
    change = {"published": lambda w: w, "lower": str.lower, "upper": str.upper}[name]
    return [Sentence([change(w) for w in s.words], list(s.tags), s.line, s.doc) for s in sentences]


def score_variants(tagger: Any, sets: dict[str, Sequence[Sentence]]) -> dict[str, dict[str, Any]]:
    """F1 of each set in each casing variant (``published_full``: the full scores as published)."""
    from tagger.train import evaluate_tagger

    out: dict[str, dict[str, Any]] = {}
    for name, sents in sets.items():
        row: dict[str, Any] = {}
        for v in VARIANTS:
            scores = evaluate_tagger(tagger, variant(sents, v))
            row[v] = round(scores["f1"], 2)
            if v == "published":
                row["published_full"] = scores
        # as published, each sentence alone (no document context): a sentence typed on its own
        alone = [Sentence(list(s.words), list(s.tags), s.line, i) for i, s in enumerate(sents)]
        row["alone"] = round(evaluate_tagger(tagger, alone)["f1"], 2)
        out[name] = row
    return out


def _type(label: str) -> str:
    return label if label == "O" else label.split("-", 1)[-1]


def pipeline_word_labels(pipe: Any, sentences: Sequence[Sentence]) -> list[list[str]]:
    """IOB2 labels per word from the pipeline's grouped entities (text = words joined by spaces)."""
    out = []
    for s in sentences:
        text = " ".join(s.words)
        starts, pos = [], 0
        for w in s.words:
            starts.append(pos)
            pos += len(w) + 1
        labels = ["O"] * len(s.words)
        for ent in pipe(text):
            inside = [i for i, st in enumerate(starts) if ent["start"] <= st < ent["end"]]
            for k, i in enumerate(inside):
                labels[i] = ("B-" if k == 0 else "I-") + ent["entity_group"]
        out.append(labels)
    return out


def pipeline_agreement(model_dir: str | Path, sentences: Sequence[Sentence], device: int = -1) -> dict[str, Any]:
    """Word-label agreement (types) and entity F1 of the pipeline and of our Predictor on the
    same sentences (each sentence on its own, as the pipeline sees it)."""
    import transformers

    from tagger.model import load_tagger
    from tagger.predict import Predictor

    tagger = load_tagger(model_dir)
    ours = [[lab for lab, _ in p] for p in Predictor(tagger).tag_words([s.words for s in sentences])]
    remote = (Path(model_dir) / "tokenizer_config.json").read_text().find("auto_map") >= 0
    pipe = transformers.pipeline("token-classification", model=str(model_dir), aggregation_strategy="first",
                                 trust_remote_code=remote, device=device)
    t0 = time.perf_counter()
    theirs = pipeline_word_labels(pipe, sentences)
    seconds = time.perf_counter() - t0
    tokens = transformers.pipeline("token-classification", model=str(model_dir), aggregation_strategy="none",
                                   trust_remote_code=remote, device=device)
    exact = pipeline_token_labels(tokens, sentences)
    same = sum(_type(a) == _type(b) for x, y in zip(ours, theirs) for a, b in zip(x, y))
    same_iob = sum(a == b for x, y in zip(ours, exact) for a, b in zip(x, y))
    words = sum(len(s.words) for s in sentences)
    gold = [s.tags for s in sentences]
    return {"model": str(model_dir), "head": tagger.model.head, "trust_remote_code": remote, "sentences": len(sentences),
            "words": words, "agreement": round(100 * same / words, 3), "agreement_iob": round(100 * same_iob / words, 3),
            "f1_ours": round(score(gold, ours)["f1"], 2), "f1_pipeline_tokens": round(score(gold, exact)["f1"], 2),
            "f1_pipeline_grouped": round(score(gold, theirs)["f1"], 2), "pipeline_seconds": round(seconds, 1)}


def pipeline_token_labels(pipe: Any, sentences: Sequence[Sentence]) -> list[list[str]]:
    """IOB2 labels per word from an ``aggregation_strategy="none"`` pipeline: the label of the
    token that starts at the word's first character (the word's first sub-token), else ``O``."""
    out = []
    for s in sentences:
        starts, pos = [], 0
        for w in s.words:
            starts.append(pos)
            pos += len(w) + 1
        at = {tok["start"]: tok["entity"] for tok in pipe(" ".join(s.words))}
        out.append([at.get(st, "O") for st in starts])
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models", nargs="+")
    ap.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared" / "data" / "conll2003"))
    ap.add_argument("--pipeline-sentences", type=int, default=1500, help="first N test sentences for the agreement (0: skip)")
    ap.add_argument("--skip-f1", action="store_true", help="only the pipeline agreement")
    ap.add_argument("--json", default="", help="also write the results to this file")
    ap.add_argument("--pipeline-device", type=int, default=-1, help="transformers device for the pipeline (-1: CPU, 0: first GPU)")
    ap.add_argument("--decodes", nargs="+", choices=("argmax", "viterbi"), default=[],
                    help="also score each model with these decodings (F1 only; default: the model's own decoding only)")
    a = ap.parse_args()
    from tagger.model import load_tagger

    data = Path(a.data)
    dev, test = read_file(data / "eng.testa").sentences, read_file(data / "eng.testb").sentences
    rows = []
    for m in a.models:
        row: dict[str, Any] = {"model": m}
        if not a.skip_f1:
            tagger = load_tagger(m)
            row["head"], row["doc_context"], row["decode"] = tagger.model.head, tagger.config.doc_context, tagger.config.decoding
            row.update({k: {v: s[v] for v in (*VARIANTS, "alone")} for k, s in score_variants(tagger, {"dev": dev, "test": test}).items()})
        if a.pipeline_sentences:
            row["pipeline"] = pipeline_agreement(m, test[: a.pipeline_sentences], a.pipeline_device)
        rows.append(row)
        print(json.dumps(row), flush=True)
        for d in (d for d in a.decodes if not a.skip_f1 and d != row["decode"]):  # the same weights, decoded otherwise
            other = dataclasses.replace(tagger, config=tagger.config.replace(decode=d))
            extra: dict[str, Any] = {"model": m, "head": row["head"], "doc_context": row["doc_context"], "decode": d}
            extra.update({k: {v: s[v] for v in (*VARIANTS, "alone")} for k, s in score_variants(other, {"dev": dev, "test": test}).items()})
            rows.append(extra)
            print(json.dumps(extra), flush=True)
    print("\n| model | head | decoding | dev | dev lower | dev UPPER | test as published | test lower | test UPPER | test, sentences alone "
          "| pipeline = ours (words: type / IOB) | F1 pipeline / ours |")
    print("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for r in rows:
        p = r.get("pipeline", {})
        dev_r = r.get("dev", {})
        print(f"| {r['model']} | {r.get('head', p.get('head', ''))} | {r.get('decode', '')} | {dev_r.get('published', '')} | "
              f"{dev_r.get('lower', '')} | {dev_r.get('upper', '')} | "
              f"{r.get('test', {}).get('published', '')} | {r.get('test', {}).get('lower', '')} | {r.get('test', {}).get('upper', '')} | "
              f"{r.get('test', {}).get('alone', '')} | "
              f"{p.get('agreement', '')}% / {p.get('agreement_iob', '')}% | {p.get('f1_pipeline_tokens', '')} / {p.get('f1_ours', '')} |")
    if a.json:
        Path(a.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
