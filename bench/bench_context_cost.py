"""What document context costs on the CPU (issue #15), measured in one run: training sentences/s of
a short run with and without ``doc_context``, and tagging words/s of one context-trained model on
CoNLL-2003 test read by documents, with its context on and off.

    python bench/bench_context_cost.py --model runs/ctx-model --train-sentences 960 --threads 2
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="a tagger trained with --doc-context")
    ap.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared" / "data" / "conll2003"))
    ap.add_argument("--train-sentences", type=int, default=960, help="first N training sentences of the short runs (0: skip)")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    import torch

    from tagger.config import TrainConfig
    from tagger.data import read_file
    from tagger.model import load_tagger
    from tagger.predict import Predictor
    from tagger.train import train

    torch.set_num_threads(a.threads)
    data = Path(a.data)
    out: dict[str, float] = {}
    if a.train_sentences:
        sents, dev = read_file(data / "eng.train").sentences[: a.train_sentences], read_file(data / "eng.testa").sentences[:50]
        for name, ctx in (("sentence", False), ("context", True)):
            cfg = TrainConfig(epochs=1, device="cpu", precision="fp32", threads=a.threads, doc_context=ctx)
            with tempfile.TemporaryDirectory() as tmp:
                out[f"train_{name}_sentences_per_s"] = round(train(cfg, sents, dev, Path(tmp) / "m").sentences_per_second, 2)
    test = read_file(data / "eng.testb").sentences
    words = sum(len(s.words) for s in test)
    tagger = load_tagger(a.model, device="cpu")
    for name, ctx in (("sentence", False), ("context", True)):
        p = Predictor(dataclasses.replace(tagger, config=tagger.config.replace(doc_context=ctx)))
        p.tag_words([s.words for s in test[:200]], [s.doc for s in test[:200]])  # warm-up
        t0 = time.perf_counter()
        p.tag_words([s.words for s in test], [s.doc for s in test])
        out[f"tag_{name}_words_per_s"] = round(words / (time.perf_counter() - t0))
    out["tag_cost_context_x"] = round(out["tag_sentence_words_per_s"] / out["tag_context_words_per_s"], 2)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
