"""The ONNX Runtime backend (``Predictor(backend="onnx")``): same labels as torch, cached export;
on the shipped default, the same labels as torch on every word of real test sentences and int8
within the documented F1 loss. onnx and onnxruntime are in requirements.txt: missing = a failure."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import DEFAULT_MODEL, SHARED_DATA, needs_default, needs_shared

from tagger.model import load_tagger
from tagger.predict import Predictor

TEXTS = [
    "Angela Merkel visited Paris today.",
    "John lives in Berlin now. Angela Merkel visited Paris today and John lives in Berlin.",
    "",
    "Paris",
]


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TAGGER_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache" / "onnx"


def _same(a: Predictor, b: Predictor, atol: float) -> None:
    for pa, pb in zip(a.predict_batch(TEXTS), b.predict_batch(TEXTS)):
        assert [(w.text, w.start, w.end, w.label) for w in pa.words] == [(w.text, w.start, w.end, w.label) for w in pb.words]
        assert all(abs(wa.score - wb.score) < atol for wa, wb in zip(pa.words, pb.words))
        assert [(e.start, e.end, e.label) for e in pa.entities] == [(e.start, e.end, e.label) for e in pb.entities]


@pytest.mark.parametrize("head", ["linear", "casing"])
def test_onnx_fp32_equals_torch(tiny_tagger: Path, cache: Path, head: str) -> None:
    tagger = load_tagger(tiny_tagger)
    if head == "casing":  # the casing head's extra input must reach the exported graph
        import torch

        from tagger.model import TaggerModel

        model = TaggerModel(tagger.model.hf, head="casing")
        torch.nn.init.normal_(model.casing.weight, std=0.5)
        tagger.model = model.eval()
    torch_pred = Predictor(tagger, max_length=64)
    onnx_pred = Predictor(tagger, max_length=64, backend="onnx")
    _same(onnx_pred, torch_pred, atol=1e-4)
    assert [p.name for p in cache.iterdir()] == [onnx_pred.model.path.name]
    # batch = one by one on this backend too (a padded batch against unpadded singles)
    batch = onnx_pred.predict_batch(TEXTS)
    assert batch == [onnx_pred.predict(t) for t in TEXTS]


def test_onnx_export_is_cached_and_keyed_by_the_weights(tiny_tagger: Path, cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    from tagger import onnx_backend

    tagger = load_tagger(tiny_tagger)
    first = Predictor(tagger, max_length=64, backend="onnx").model.path
    exports: list[Path] = []
    real_export = onnx_backend.export
    monkeypatch.setattr(onnx_backend, "export", lambda m, p, q: (exports.append(p), real_export(m, p, q)))
    again = Predictor(tagger, max_length=64, backend="onnx").model.path
    assert again == first and exports == []  # the second use loads the cached file
    with torch.no_grad():
        tagger.model.hf.classifier.bias[0] += 1.0  # other weights: another file, never a stale one
    changed = Predictor(tagger, max_length=64, backend="onnx").model.path
    assert changed != first and exports == [changed]
    assert not list(cache.glob(".*.tmp"))  # no partial files left behind


def test_onnx_cache_keeps_the_most_recently_used_exports(tiny_tagger: Path, cache: Path) -> None:
    import os
    import time

    from tagger.onnx_backend import KEEP

    cache.mkdir(parents=True)
    now = time.time()
    old = [cache / f"old{i}.onnx" for i in range(KEEP + 2)]  # last used 2 h ago and earlier, old[0] last
    for i, f in enumerate(old):
        f.write_bytes(b"x")
        os.utime(f, (now - 7200 - 60 * i,) * 2)
    recent = cache / "recent.onnx"  # beyond the limit too, but used a minute ago: maybe being loaded
    recent.write_bytes(b"x")
    os.utime(recent, (now - 60,) * 2)
    crashed, running = cache / ".a.onnx.1.tmp", cache / ".b.onnx.2.tmp"  # partial exports
    for f, age in ((crashed, 7200), (running, 10)):
        f.write_bytes(b"x")
        os.utime(f, (now - age,) * 2)
    new = Predictor(load_tagger(tiny_tagger), max_length=64, backend="onnx").model.path  # exports, then prunes
    kept = {f.name for f in cache.iterdir()}
    assert kept == {new.name, recent.name, running.name, *(f.name for f in old[: KEEP - 2])}
    # loading a cached export marks it used, so a model in use is the last to go
    os.utime(new, (now - 9000,) * 2)
    Predictor(load_tagger(tiny_tagger), max_length=64, backend="onnx")
    assert new.stat().st_mtime > now - 5


def test_onnx_int8_runs_and_is_smaller(tiny_tagger: Path, cache: Path) -> None:
    tagger = load_tagger(tiny_tagger)
    fp32 = Predictor(tagger, max_length=64, backend="onnx")
    int8 = Predictor(tagger, max_length=64, backend="onnx", quantize=True)
    assert int8.model.path != fp32.model.path
    assert int8.model.path.stat().st_size < fp32.model.path.stat().st_size
    pred = int8.predict(TEXTS[1])
    assert len(pred.words) == len(fp32.predict(TEXTS[1]).words)
    assert all(w.label in tagger.labels and 0 < w.score <= 1 for w in pred.words)


def test_onnx_cli_predict_matches_torch(tiny_tagger: Path, cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from tagger.cli import main

    outs = []
    for backend in ("torch", "onnx"):
        assert main(["predict", "--model", str(tiny_tagger), "--backend", backend, TEXTS[0]]) == 0
        outs.append(json.loads(capsys.readouterr().out))
    assert [w["label"] for w in outs[0]["words"]] == [w["label"] for w in outs[1]["words"]]
    assert outs[0]["entities"] and [e["text"] for e in outs[0]["entities"]] == [e["text"] for e in outs[1]["entities"]]


def test_onnx_padded_batch_equals_torch_and_attention_is_fused(tiny_tagger: Path, cache: Path) -> None:
    """Rows of different lengths in one padded batch (the exported graph must honour the mask),
    and ONNX Runtime's BERT fusion must have matched: one Attention node per layer (an unfused
    export is correct but ~1.3x slower, which no label comparison would notice)."""
    import collections

    import onnx
    import torch

    tagger = load_tagger(tiny_tagger)
    model = Predictor(tagger, max_length=64, backend="onnx").model
    ops = collections.Counter(node.op_type for node in onnx.load(str(model.path)).graph.node)
    layers = tagger.model.hf.config.num_hidden_layers
    assert ops["Attention"] == layers and ops["Softmax"] == 0, ops
    ids = torch.randint(1000, 5000, (3, 12))
    mask = torch.ones_like(ids)
    mask[1, 7:] = 0
    mask[2, 2:] = 0
    ids[mask == 0] = 0
    with torch.inference_mode():
        ref = tagger.model.eval()(ids, mask, torch.zeros_like(ids))
    got = torch.from_numpy(model(ids, mask, torch.zeros_like(ids)))
    real = mask.bool()
    assert torch.allclose(got[real], ref[real], atol=1e-4), (got[real] - ref[real]).abs().max()
    for row in range(3):  # each row alone, unpadded, gives the same logits as in the batch
        n = int(mask[row].sum())
        alone = torch.from_numpy(model(ids[row : row + 1, :n], mask[row : row + 1, :n], torch.zeros_like(ids[row : row + 1, :n])))
        assert torch.allclose(alone[0], got[row, :n], atol=1e-5)


# int8 on the shipped default: the docs claim -0.1 F1 on the whole CoNLL-2003 test set (tagger/onnx_backend.py,
# README); measured -0.03 there (90.11 -> 90.07, 2026-12-06). On the first 500 sentences (983 entities, one
# entity ~0.1 F1) the drop was 0.25-0.30 depending on which sentences share a batch (int8 activation scales are
# per batch), and it wanders between -0.26 and +0.07 across subsets of 300-1,500 sentences: the margin absorbs
# that subset noise, and still fails a quantisation that costs a point.
INT8_DOCUMENTED_LOSS = 0.1
INT8_SUBSET_MARGIN = 0.4
INT8_MIN_AGREEMENT = 0.995  # words with the fp32 label; measured 99.83% (5,935 of 5,945)


@pytest.mark.slow
@needs_default
@needs_shared("conll2003/eng.testb")
def test_onnx_default_model_matches_torch_on_conll_test(cache: Path) -> None:
    """The shipped default (casing head, Viterbi decoding, windows of 256) on the first 500 CoNLL-2003
    test sentences: ONNX fp32 gives torch's label on every word (measured: 5,945 of 5,945, scores
    within 4.3e-06), and ONNX int8 keeps F1 within the documented loss plus the subset margin."""
    from tagger.data import read_file
    from tagger.metrics import score

    sentences = read_file(SHARED_DATA / "conll2003" / "eng.testb").sentences[:500]
    words, gold = [s.words for s in sentences], [s.tags for s in sentences]
    tagger = load_tagger(DEFAULT_MODEL, device="cpu")
    assert (tagger.model.head, tagger.config.decoding) == ("casing", "viterbi")
    runs = {}
    for name, kwargs in {"torch": {}, "onnx": {"backend": "onnx"}, "int8": {"backend": "onnx", "quantize": True}}.items():
        predictor = Predictor(tagger, **kwargs)
        assert predictor.max_length == 256
        runs[name] = predictor.tag_words(words)
    labels = {name: [[label for label, _ in sent] for sent in out] for name, out in runs.items()}
    pairs = [(a, b) for ta, tb in zip(runs["torch"], runs["onnx"]) for a, b in zip(ta, tb, strict=True)]
    assert len(pairs) == sum(map(len, words)) > 5000
    wrong = [(i, a[0], b[0]) for i, (a, b) in enumerate(pairs) if a[0] != b[0]]
    assert not wrong, f"{len(wrong)} of {len(pairs)} words differ (word index, torch, onnx): {wrong[:10]}"
    assert max(abs(a[1] - b[1]) for a, b in pairs) < 1e-3
    agree = sum(a == b for ta, tb in zip(labels["torch"], labels["int8"]) for a, b in zip(ta, tb)) / len(pairs)
    assert agree >= INT8_MIN_AGREEMENT
    f1_torch, f1_int8 = score(gold, labels["torch"])["f1"], score(gold, labels["int8"])["f1"]
    assert f1_torch > 90  # measured 94.50: the subset is tagged for real, not all O
    assert f1_torch - f1_int8 <= INT8_DOCUMENTED_LOSS + INT8_SUBSET_MARGIN, (f1_torch, f1_int8)
