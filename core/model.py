"""MiniGPT2: a decoder-only Transformer over characters, after the GPT-2 paper.

One class covers the article's single-layer model (the `seed` preset) and GPT-2-like
stacks: pre-LayerNorm blocks, causal self-attention, residuals, token embedding tied to
the output projection.
"""

from __future__ import annotations

import copy
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from minigpt2.core.config import ModelConfig
from minigpt2.core.data.vocab import BOS, PAD
from torch import Tensor


def _dropout(p: float) -> nn.Module:
    # Dropout(0) still costs a call per use; at these sizes every call counts.
    return nn.Dropout(p) if p > 0 else nn.Identity()


class KVCache:
    """Keys and values of every layer for a batch being generated, preallocated to the
    model's block size so each step writes in place.

    Position-major, (layer, key or value, position, row, head, head dim): the keys of one
    layer at the positions filled are one contiguous block, so that `extend_rows` (a search
    going on from chosen rows) gathers rows straight into the new cache, 5x faster than
    gathering row-major blocks and copying them into a cache one position longer."""

    def __init__(
        self,
        config: ModelConfig,
        batch_size: int,
        device: torch.device,
        dtype: torch.dtype = torch.float32,
    ) -> None:
        head_dim = config.d_model // config.n_head
        shape = (config.n_layer, 2, config.block_size, batch_size, config.n_head, head_dim)
        self.store = torch.zeros(shape, device=device, dtype=dtype)
        self.length = 0  # positions filled so far
        # The kind's offset (MiniGPT2.kind_offset), taken from the first call's start tokens:
        # later calls pass only the new tokens.
        self.kind_offset: Tensor | None = None

    def update(self, layer: int, k: Tensor, v: Tensor) -> tuple[Tensor, Tensor]:
        """Write this step's keys/values for `layer`, (B, nh, T, hs); return all keys and
        values so far, position-major: (S, B, nh, hs)."""
        end = self.length + k.size(2)
        self.store[layer, 0, self.length : end] = k.permute(2, 0, 1, 3)
        self.store[layer, 1, self.length : end] = v.permute(2, 0, 1, 3)
        return self.store[layer, 0, :end], self.store[layer, 1, :end]

    def extend_rows(self, rows: Tensor) -> KVCache:
        """A cache whose row i is row `rows[i]` of this one, with room for one more
        position (copying the whole block for thousands of rows would cost more than the
        forward pass)."""
        layers, _, _, _, heads, head_dim = self.store.shape
        new = copy.copy(self)  # the same length and kind offset; a store of its own
        new.store = self.store.new_empty((layers, 2, self.length + 1, len(rows), heads, head_dim))
        for layer in range(layers):
            for kv in range(2):  # each block contiguous at both ends: no copy but the gather
                torch.index_select(self.store[layer, kv, : self.length], 1, rows,
                                   out=new.store[layer, kv, : self.length])
        return new


class CausalSelfAttention(nn.Module):
    def __init__(self, config: ModelConfig, layer: int) -> None:
        super().__init__()
        self.layer = layer
        self.n_head = config.n_head
        self.dropout = config.dropout
        self.qkv = nn.Linear(config.d_model, 3 * config.d_model, bias=config.bias)
        self.proj = nn.Linear(config.d_model, config.d_model, bias=config.bias)
        self.proj_dropout = _dropout(config.dropout)

    def forward(
        self, x: Tensor, cache: KVCache | None = None, need_weights: bool = False
    ) -> tuple[Tensor, Tensor | None]:
        B, T, C = x.shape
        # (B, T, 3C) -> 3 x (B, nh, T, hs)
        q, k, v = self.qkv(x).view(B, T, 3, self.n_head, C // self.n_head).permute(2, 0, 3, 1, 4)
        past = 0
        if cache is not None:
            past = cache.length
            k, v = cache.update(self.layer, k, v)
            if T == 1 and not need_weights:  # one new token a row: the usual generation step
                y = _one_query_attention(q, k, v)
                return self.proj_dropout(self.proj(y.reshape(B, T, C))), None
            k, v = k.permute(1, 2, 0, 3), v.permute(1, 2, 0, 3)  # (S, B, ..) -> (B, nh, S, hs)
        if need_weights:
            weights = _causal_attention_weights(q, k, past)
            y = weights @ v
        else:
            weights = None
            # One new token attends to everything before it: no mask needed.
            causal = T > 1
            mask = None
            if causal and past:
                mask = torch.ones(T, past + T, dtype=torch.bool, device=x.device).tril(past)
            y = F.scaled_dot_product_attention(
                q,
                k,
                v,
                attn_mask=mask,
                is_causal=causal and not past,
                dropout_p=self.dropout if self.training else 0.0,
            )
        y = y.transpose(1, 2).reshape(B, T, C)  # (B, nh, T, hs) -> (B, T, C)
        return self.proj_dropout(self.proj(y)), weights


def _one_query_attention(q: Tensor, k: Tensor, v: Tensor) -> Tensor:
    """Attention of one query a row, (B, nh, 1, hs), over the cache's position-major keys
    and values, (S, B, nh, hs): (B, nh, hs). A multiply-sum, which on CPU beats SDPA's
    kernel (it pays per row and head block) at every batch size sampling uses."""
    scores = (k * q[:, :, 0]).sum(-1) * (1.0 / math.sqrt(q.size(-1)))  # (S, B, nh)
    weights = scores.softmax(0).unsqueeze(-1)
    return (weights * v).sum(0)


def _causal_attention_weights(q: Tensor, k: Tensor, past: int) -> Tensor:
    """Explicit softmax(QK^T / sqrt(hs)) with the causal mask, for visualisation."""
    T, S = q.size(-2), k.size(-2)
    scores = (q @ k.transpose(-2, -1)) / math.sqrt(q.size(-1))  # (B, nh, T, S)
    future = torch.ones(T, S, dtype=torch.bool, device=q.device).triu(past + 1)
    return scores.masked_fill(future, float("-inf")).softmax(dim=-1)


class MLP(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        hidden = config.mlp_ratio * config.d_model
        self.fc = nn.Linear(config.d_model, hidden, bias=config.bias)
        self.act = nn.GELU() if config.activation == "gelu" else nn.ReLU()
        self.proj = nn.Linear(hidden, config.d_model, bias=config.bias)
        self.dropout = _dropout(config.dropout)

    def forward(self, x: Tensor) -> Tensor:
        return self.dropout(self.proj(self.act(self.fc(x))))


class Block(nn.Module):
    """Pre-LN residual block: x + attn(ln(x)), then x + mlp(ln(x))."""

    def __init__(self, config: ModelConfig, layer: int) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.d_model)
        self.attn = CausalSelfAttention(config, layer)
        self.ln_2 = nn.LayerNorm(config.d_model)
        self.mlp = MLP(config)

    def forward(
        self, x: Tensor, cache: KVCache | None = None, need_weights: bool = False
    ) -> tuple[Tensor, Tensor | None]:
        attended, weights = self.attn(self.ln_1(x), cache, need_weights)
        x = x + attended
        x = x + self.mlp(self.ln_2(x))
        return x, weights


def sinusoidal_positions(length: int, d_model: int) -> Tensor:
    """The Transformer paper's fixed encoding: sin on even dimensions, cos on odd."""
    position = torch.arange(length).unsqueeze(1)
    frequency = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
    table = torch.zeros(length, d_model)
    table[:, 0::2] = torch.sin(position * frequency)
    table[:, 1::2] = torch.cos(position * frequency)
    return table


class MiniGPT2(nn.Module):
    pos_table: Tensor  # the sinusoidal buffer, when positions are not learned

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        if config.vocab_size <= 0 or config.block_size <= 0:
            raise ValueError("ModelConfig needs vocab_size and block_size from the data")
        self.config = config
        self.tok_emb = nn.Embedding(config.vocab_size, config.d_model)
        if config.positions == "learned":
            self.pos_emb: nn.Embedding | None = nn.Embedding(config.block_size, config.d_model)
        else:
            self.pos_emb = None
            self.register_buffer(
                "pos_table",
                sinusoidal_positions(config.block_size, config.d_model),
                persistent=False,
            )
        self.emb_dropout = _dropout(config.dropout)
        self.blocks = nn.ModuleList(Block(config, i) for i in range(config.n_layer))
        self.ln_f = nn.LayerNorm(config.d_model) if config.final_norm else nn.Identity()
        if config.init == "gpt2":
            self._init_gpt2()

    def _init_gpt2(self) -> None:
        """N(0, 0.02) everywhere; residual projections scaled by 1/sqrt(2 * n_layer) so the
        residual stream's variance does not grow with depth (GPT-2 paper, section 2.3)."""
        residual_std = 0.02 / math.sqrt(2 * self.config.n_layer)
        for name, module in self.named_modules():
            if isinstance(module, (nn.Linear, nn.Embedding)):
                std = residual_std if name.endswith(".proj") else 0.02
                nn.init.normal_(module.weight, mean=0.0, std=std)
            if isinstance(module, nn.Linear) and module.bias is not None:
                nn.init.zeros_(module.bias)

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def positions(self, start: int, length: int) -> Tensor:
        if start + length > self.config.block_size:
            raise ValueError(
                f"sequence of {start + length} tokens exceeds block size {self.config.block_size}"
            )
        if self.pos_emb is not None:
            return self.pos_emb.weight[start : start + length]
        return self.pos_table[start : start + length]

    def forward(
        self, idx: Tensor, targets: Tensor | None = None, cache: KVCache | None = None
    ) -> tuple[Tensor, Tensor | None]:
        """Logits (B, T, vocab) and, given targets, the token-weighted mean cross-entropy
        over every non-padding target."""
        x, _ = self._run(idx, cache, need_weights=False)
        logits = F.linear(x, self.tok_emb.weight)  # weight tying: output = embedding^T
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.flatten(0, 1), targets.flatten(), ignore_index=PAD)
        return logits, loss

    def kind_offset(self, idx: Tensor, cache: KVCache | None = None) -> Tensor:
        """(B, 1, C): kind_gain x (the row of each sequence's start token - BOS's row), added
        at every position. Zero for a name without a kind, so a model whose kinds start from
        BOS's row starts out as the model without them. `idx` starts with the start tokens
        unless `cache` already holds them."""
        if cache is not None and cache.kind_offset is not None:
            return cache.kind_offset
        offset = self.config.kind_gain * (self.tok_emb(idx[:, :1]) - self.tok_emb.weight[BOS])
        if cache is not None:
            cache.kind_offset = offset
        return offset

    @torch.no_grad()
    def attention(self, idx: Tensor) -> Tensor:
        """Attention weights of every layer and head: (n_layer, B, n_head, T, T)."""
        _, weights = self._run(idx, None, need_weights=True)
        return torch.stack(weights)

    def _run(
        self, idx: Tensor, cache: KVCache | None, need_weights: bool
    ) -> tuple[Tensor, list[Tensor]]:
        start = cache.length if cache is not None else 0
        x = self.tok_emb(idx) + self.positions(start, idx.size(1))
        if self.config.kind_gain:
            x = x + self.kind_offset(idx, cache)
        x = self.emb_dropout(x)
        all_weights = []
        for block in self.blocks:
            x, weights = block(x, cache, need_weights)
            if weights is not None:
                all_weights.append(weights)
        if cache is not None:
            cache.length += idx.size(1)
        return self.ln_f(x), all_weights
