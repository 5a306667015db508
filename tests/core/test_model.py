from __future__ import annotations

import dataclasses
import json
import math

import pytest
import torch
from minigpt2.core.config import ModelConfig, get_preset, with_data_shape
from minigpt2.core.data.vocab import BOS
from minigpt2.core.model import KVCache, MiniGPT2, sinusoidal_positions

VOCAB, BLOCK = 30, 12


def build(config: ModelConfig, device: str = "cpu") -> MiniGPT2:
    torch.manual_seed(0)
    return MiniGPT2(with_data_shape(config, VOCAB, BLOCK)).to(device).eval()


@pytest.mark.parametrize("preset", ["seed", "default", "large"])
def test_changing_a_later_token_never_changes_earlier_logits(preset: str, device: str) -> None:
    model = build(get_preset(preset).model, device)
    idx = torch.randint(3, VOCAB, (2, BLOCK), device=device)
    changed = idx.clone()
    changed[:, 7:] = (changed[:, 7:] + 1) % VOCAB
    before, _ = model(idx)
    after, _ = model(changed)
    torch.testing.assert_close(before[:, :7], after[:, :7])
    assert not torch.allclose(before[:, 7:], after[:, 7:])


def test_output_projection_is_the_token_embedding(tiny: ModelConfig) -> None:
    model = build(tiny)
    idx = torch.randint(3, VOCAB, (1, 5))
    logits, _ = model(idx)
    with torch.no_grad():
        model.tok_emb.weight[4] += 1.0  # moving one embedding row moves that token's logits
    moved, _ = model(idx)
    assert not torch.allclose(logits[..., 4], moved[..., 4])
    names = [name for name, _ in model.named_parameters()]
    assert not any("head" in name or "lm" in name for name in names)  # no separate output matrix


def test_seed_preset_matches_the_article() -> None:
    config = get_preset("seed").model
    model = build(config)
    d = 32
    assert (config.n_layer, config.n_head, config.d_model) == (1, 1, d)
    assert model.pos_emb is None and isinstance(model.ln_f, torch.nn.Identity)
    assert all(m.bias is None for m in model.modules() if isinstance(m, torch.nn.Linear))
    assert isinstance(model.blocks[0].mlp.act, torch.nn.ReLU)
    assert model.blocks[0].mlp.fc.out_features == d
    # The article's formula: embedding + q,k,v,out (4 d^2) + FFN (2 d^2) + two LayerNorms.
    assert model.num_params() == VOCAB * d + 4 * d * d + 2 * d * d + 2 * 2 * d


def test_larger_presets_have_gpt2_features() -> None:
    config = get_preset("default").model
    model = build(config)
    assert config.n_head > 1 and model.pos_emb is not None
    assert isinstance(model.ln_f, torch.nn.LayerNorm)
    assert model.blocks[0].mlp.fc.out_features == 4 * config.d_model
    assert isinstance(model.blocks[0].mlp.act, torch.nn.GELU)


def test_residual_projections_get_the_scaled_init() -> None:
    config = ModelConfig(n_layer=8, n_head=4, d_model=128, positions="learned", init="gpt2")
    model = build(config)
    residual = model.blocks[0].attn.proj.weight.std().item()
    other = model.blocks[0].attn.qkv.weight.std().item()
    assert other == pytest.approx(0.02, rel=0.1)
    assert residual == pytest.approx(0.02 / 4, rel=0.1)  # 1/sqrt(2 * 8)


@pytest.mark.parametrize("kind_gain", [0.0, 3.0])
def test_kv_cache_decoding_equals_full_recomputation(
    tiny: ModelConfig, device: str, kind_gain: float
) -> None:
    model = build(dataclasses.replace(tiny, kind_gain=kind_gain), device)
    idx = torch.randint(3, VOCAB, (3, BLOCK), device=device)
    full, _ = model(idx)
    cache = KVCache(model.config, batch_size=3, device=torch.device(device))
    prefill, _ = model(idx[:, :4], cache=cache)
    steps = [prefill] + [model(idx[:, t : t + 1], cache=cache)[0] for t in range(4, BLOCK)]
    torch.testing.assert_close(torch.cat(steps, dim=1), full, atol=1e-5, rtol=1e-5)


@torch.no_grad()
def test_a_cache_extended_by_chosen_rows_goes_on_as_those_rows_would(
    tiny: ModelConfig, device: str
) -> None:
    """What a search does: keep some rows (one twice, in another order), then one more
    token each; the logits are those of the kept prefixes computed from scratch."""
    model = build(tiny, device)
    idx = torch.randint(3, VOCAB, (4, 6), device=device)
    cache = KVCache(model.config, batch_size=4, device=torch.device(device))
    model(idx[:, :5], cache=cache)
    rows = torch.tensor([2, 0, 2], device=device)
    extended = cache.extend_rows(rows)
    assert extended.length == 5 and cache.length == 5  # the old cache is left as it was
    stepped, _ = model(idx[rows, 5:6], cache=extended)
    full, _ = model(idx[rows])
    torch.testing.assert_close(stepped[:, -1], full[:, -1], atol=1e-5, rtol=1e-5)


@torch.no_grad()
def test_a_kind_gain_feeds_the_start_token_to_every_position(tiny: ModelConfig) -> None:
    plain, kinded = build(tiny), build(dataclasses.replace(tiny, kind_gain=3.0))
    idx = torch.randint(3, VOCAB, (1, BLOCK))
    idx[0, 0] = BOS
    # Starting with BOS, the offset is zero: the same weights give the same logits.
    torch.testing.assert_close(plain(idx)[0], kinded(idx)[0])
    other = idx.clone()
    other[0, 0] = VOCAB - 1  # another start token, as a kind's
    through_attention = (plain(other)[0] - plain(idx)[0]).abs().amax(-1)[0]
    offset_too = (kinded(other)[0] - kinded(idx)[0]).abs().amax(-1)[0]
    assert bool((offset_too[1:] > 2 * through_attention[1:]).all())
    with pytest.raises(ValueError, match="kind_gain"):
        dataclasses.replace(tiny, kind_gain=-1.0)


def test_attention_weights_are_causal_distributions(tiny: ModelConfig) -> None:
    model = build(tiny)
    weights = model.attention(torch.randint(3, VOCAB, (1, 6)))
    assert weights.shape == (2, 1, 2, 6, 6)  # (layer, batch, head, query, key)
    torch.testing.assert_close(weights.sum(-1), torch.ones(2, 1, 2, 6))
    assert torch.all(weights.triu(1) == 0)


def test_loss_ignores_padding(tiny: ModelConfig) -> None:
    model = build(tiny)
    idx = torch.randint(3, VOCAB, (1, 6))
    targets = torch.randint(3, VOCAB, (1, 6))
    _, loss = model(idx, targets)
    padded = targets.clone()
    padded[0, 4:] = 0
    _, partial = model(idx, padded)
    logits, _ = model(idx)
    expected = torch.nn.functional.cross_entropy(logits[0, :4], targets[0, :4])
    torch.testing.assert_close(partial, expected)
    assert not torch.isclose(loss, partial)


def test_sequences_longer_than_the_block_are_refused(tiny: ModelConfig) -> None:
    with pytest.raises(ValueError, match="block size"):
        build(tiny)(torch.zeros(1, BLOCK + 1, dtype=torch.long))


def test_attention_weights_equal_an_explicit_scaled_softmax(tiny: ModelConfig) -> None:
    """The first layer's map, recomputed by hand: softmax(Q K^T / sqrt(head_dim)), causal."""
    model = build(tiny)
    idx = torch.randint(3, VOCAB, (1, 6))
    block = model.blocks[0]
    n_head, head_dim = tiny.n_head, tiny.d_model // tiny.n_head
    x = block.ln_1(model.tok_emb(idx) + model.pos_emb.weight[:6])  # type: ignore[union-attr]
    q, k, _ = block.attn.qkv(x).split(tiny.d_model, dim=-1)
    q = q.view(6, n_head, head_dim).transpose(0, 1)  # (head, T, hs)
    k = k.view(6, n_head, head_dim).transpose(0, 1)
    scores = q @ k.transpose(1, 2) / head_dim**0.5
    scores = scores.masked_fill(torch.ones(6, 6).triu(1).bool(), float("-inf"))
    expected = scores.softmax(-1)
    torch.testing.assert_close(model.attention(idx)[0, 0], expected)


def test_only_sinusoidal_positions_need_an_even_width() -> None:
    with pytest.raises(ValueError, match="even d_model"):
        ModelConfig(d_model=33, n_head=1, positions="sinusoidal")
    assert ModelConfig(d_model=33, n_head=1, positions="learned").d_model == 33
    with pytest.raises(ValueError, match="divisible"):
        ModelConfig(d_model=32, n_head=3, positions="learned")


def test_sinusoidal_positions_follow_the_transformer_paper() -> None:
    """PE(pos, 2i) = sin(pos / 10000^(2i/d)), PE(pos, 2i+1) = cos(the same), computed here
    one entry at a time."""
    length, d_model = 7, 8
    table = sinusoidal_positions(length, d_model)
    for pos in range(length):
        for i in range(d_model // 2):
            angle = pos / 10000 ** (2 * i / d_model)
            assert table[pos, 2 * i].item() == pytest.approx(math.sin(angle), abs=1e-6)
            assert table[pos, 2 * i + 1].item() == pytest.approx(math.cos(angle), abs=1e-6)


def test_a_config_read_back_from_json_gets_the_same_init() -> None:
    # Checkpoints and saved settings carry the config as JSON: its strings are equal to the
    # code's literals but not the same objects.
    config = ModelConfig(n_layer=8, n_head=4, d_model=128, positions="learned", init="gpt2")
    read_back = ModelConfig(**json.loads(json.dumps(dataclasses.asdict(config))))
    assert read_back == config
    model = build(read_back)
    assert model.blocks[0].attn.qkv.weight.std().item() == pytest.approx(0.02, rel=0.1)
    assert model.blocks[0].attn.proj.weight.std().item() == pytest.approx(0.02 / 4, rel=0.1)
