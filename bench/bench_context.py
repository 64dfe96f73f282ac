"""Does it matter how running text is cut before tagging? Entity F1 on CoNLL-2003 eng.testb
documents (the -DOCSTART- articles, 231 of them) tagged three ways with the same tagger:

- by gold sentence (each sentence alone, as in training and in the usual CoNLL scoring);
- by whole document (the article's words as one sequence in overlapping windows:
  ``Predictor(sentences=False)``, what a tagger does when a paragraph is pasted whole);
- by the sentences our predictor finds (``Predictor(sentences=True)``, the default: spaCy's
  rule-based sentencizer, the same pipeline ``tagger.predict.split_sentences`` runs on raw text).

    python bench/bench_context.py [--model models/default] [--write]
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path

from common import CONLL, header, publish

from tagger.data import read_file
from tagger.metrics import score
from tagger.model import load_tagger
from tagger.predict import Predictor, _spacy_pipeline


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="models/default")
    ap.add_argument("--data", default=str(CONLL / "eng.testb"))
    ap.add_argument("--write", action="store_true", help="also put the section into docs/BENCHMARKS.md")
    args = ap.parse_args(argv)
    from spacy.tokens import Doc

    lines = header("Sentence splitting: tagging running text whole vs by sentence")
    sents = read_file(args.data).sentences
    gold = [list(s.tags) for s in sents]
    docs = [list(g) for _, g in itertools.groupby(range(len(sents)), key=lambda i: sents[i].doc)]
    doc_words = [[w for i in d for w in sents[i].words] for d in docs]
    predictor = Predictor(load_tagger(args.model))
    nlp = _spacy_pipeline(predictor.tagger.config.language)

    def per_sentence(doc_labels: list[list[str]]) -> list[list[str]]:
        """Document-level labels cut back into the gold sentences, for scoring."""
        out = []
        for d, labels in zip(docs, doc_labels):
            k = 0
            for i in d:
                n = len(sents[i].words)
                out.append(labels[k : k + n])
                k += n
        return out

    def timed(fn):  # type: ignore[no-untyped-def]
        t0 = time.perf_counter()
        value = fn()
        return value, time.perf_counter() - t0

    by_gold, t_gold = timed(lambda: [[lab for lab, _ in r] for r in predictor.tag_words([s.words for s in sents])])
    by_doc, t_doc = timed(lambda: per_sentence([[lab for lab, _ in r] for r in predictor.tag_words(doc_words)]))

    def by_found() -> tuple[list[list[str]], int]:
        cuts = [[(s.start, s.end) for s in nlp(Doc(nlp.vocab, words=words)).sents] for words in doc_words]
        tagged = iter(predictor.tag_words([words[a:b] for words, spans in zip(doc_words, cuts) for a, b in spans]))
        return per_sentence([[lab for _ in spans for lab, _ in next(tagged)] for spans in cuts]), sum(map(len, cuts))

    (by_split, n_found), t_split = timed(by_found)
    rows = [
        ("by gold sentence", len(sents), score(gold, by_gold)["f1"], t_gold),
        ("whole document (`sentences=False`)", len(docs), score(gold, by_doc)["f1"], t_doc),
        ("by the sentences spaCy's sentencizer finds (`sentences=True`, default)", n_found, score(gold, by_split)["f1"], t_split),
    ]
    lines += [
        (f"Model `{Path(args.model).name}`, `{Path(args.data).name}`: {len(docs)} documents, {len(sents):,} gold sentences, "
        f"{sum(map(len, doc_words)):,} words; windows of {predictor.max_length} sub-tokens."),
        "",
        "| text cut into | pieces | entity F1 | seconds |",
        "| --- | ---: | ---: | ---: |",
        *[f"| {name} | {n:,} | {f1:.2f} | {secs:.1f} |" for name, n, f1, secs in rows],
        "",
        ("The sentencizer splits at sentence-final punctuation; CoNLL articles also hold headlines, datelines and "
         "result tables without any, which stay joined to their neighbours (raw text separates them by line breaks; "
         "`split_sentences` ends a sentence at a blank line)."),
    ]
    publish("context", lines, args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
