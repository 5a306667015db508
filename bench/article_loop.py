"""A straightforward re-implementation of the source article's training and generation loop,
kept as the baseline the benchmark measures the core against.

Deliberately unoptimised, as in the article: a torch Dataset + DataLoader (batch 16,
per-item tensors, default collation), separate q/k/v projections, a causal mask rebuilt
every forward, plain Adam, `loss.item()` every step, and a generate loop that re-runs the
whole sequence for every new character of every name.
"""

from __future__ import annotations

import math
import random

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, Dataset

SPECIALS = ["<PAD>", "<BOS>", "<EOS>"]


class Tokens:
    def __init__(self, words: list[str]) -> None:
        self.itos = SPECIALS + sorted(set("".join(words)))
        self.stoi = {ch: i for i, ch in enumerate(self.itos)}
        self.pad, self.bos, self.eos = 0, 1, 2

    def encode(self, word: str, max_len: int) -> list[int]:
        ids = [self.bos] + [self.stoi[c] for c in word] + [self.eos]
        return ids + [self.pad] * (max_len - len(ids))

    def decode(self, ids: list[int]) -> str:
        out = []
        for i in ids:
            if i == self.eos:
                break
            if i >= len(SPECIALS):
                out.append(self.itos[i])
        return "".join(out)


class NameDataset(Dataset):
    def __init__(self, words: list[str], tokens: Tokens, max_len: int) -> None:
        self.rows = [tokens.encode(w, max_len) for w in words]

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        row = self.rows[i]
        return torch.tensor(row[:-1]), torch.tensor(row[1:])


class SinusoidalPositions(nn.Module):
    def __init__(self, d_model: int, max_len: int) -> None:
        super().__init__()
        table = torch.zeros(max_len, d_model)
        position = torch.arange(max_len).unsqueeze(1)
        frequency = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
        table[:, 0::2] = torch.sin(position * frequency)
        table[:, 1::2] = torch.cos(position * frequency)
        self.register_buffer("table", table)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.table[: x.size(1)]


class ArticleMiniGPT2(nn.Module):
    def __init__(self, vocab_size: int, d_model: int, max_len: int) -> None:
        super().__init__()
        self.d_model = d_model
        self.max_len = max_len
        self.embed = nn.Embedding(vocab_size, d_model)
        self.pos = SinusoidalPositions(d_model, max_len)
        self.q = nn.Linear(d_model, d_model, bias=False)
        self.k = nn.Linear(d_model, d_model, bias=False)
        self.v = nn.Linear(d_model, d_model, bias=False)
        self.out = nn.Linear(d_model, d_model, bias=False)
        self.ffn = nn.Sequential(
            nn.Linear(d_model, d_model, bias=False),
            nn.ReLU(),
            nn.Linear(d_model, d_model, bias=False),
        )
        self.ln1 = nn.LayerNorm(d_model)
        self.ln2 = nn.LayerNorm(d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.pos(self.embed(x))
        a = self.ln1(h)
        scores = self.q(a) @ self.k(a).transpose(-2, -1) / math.sqrt(self.d_model)
        mask = torch.triu(torch.ones(scores.size(-2), scores.size(-1)), diagonal=1).bool()
        attn = torch.softmax(scores.masked_fill(mask.to(x.device), float("-inf")), dim=-1)
        h = h + self.out(attn @ self.v(a))
        h = h + self.ffn(self.ln2(h))
        return h @ self.embed.weight.t()

    @torch.no_grad()
    def generate(self, start: list[int], eos: int, temperature: float = 1.0) -> list[int]:
        self.eval()
        device = next(self.parameters()).device
        tokens = list(start)
        for _ in range(self.max_len - len(tokens)):
            logits = self(torch.tensor(tokens, device=device).unsqueeze(0))
            probs = torch.softmax(logits[0, len(tokens) - 1] / temperature, dim=-1)
            token = torch.multinomial(probs, num_samples=1).item()
            if token == eos:
                break
            tokens.append(token)
        return tokens


def run_epoch(
    model: nn.Module,
    loader: DataLoader,
    criterion: nn.Module,
    vocab_size: int,
    device: torch.device,
    optimizer: torch.optim.Optimizer | None,
) -> float:
    model.train(optimizer is not None)
    total = 0.0
    with torch.set_grad_enabled(optimizer is not None):
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            loss = criterion(model(x).view(-1, vocab_size), y.view(-1))
            if optimizer is not None:
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            total += loss.item()
    return total / len(loader)


def train_article(
    words: list[str], epochs: int = 100, device: str = "cpu", seed: int = 42
) -> tuple[ArticleMiniGPT2, Tokens, list[str], list[str], float]:
    """The article's recipe: 80/20 split shuffled with seed 42, d_model 32, Adam 1e-3,
    batch 16. Returns the model, tokens, split, and the last epoch's mean test loss."""
    torch.manual_seed(seed)
    shuffled = list(words)
    random.Random(seed).shuffle(shuffled)
    cut = int(len(shuffled) * 0.8)
    train_words, val_words = shuffled[:cut], shuffled[cut:]
    tokens = Tokens(words)
    max_len = max(len(w) for w in words) + 2
    dev = torch.device(device)
    model = ArticleMiniGPT2(len(tokens.itos), 32, max_len).to(dev)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = nn.CrossEntropyLoss(ignore_index=tokens.pad)
    train_loader = DataLoader(
        NameDataset(train_words, tokens, max_len), batch_size=16, shuffle=True
    )
    val_loader = DataLoader(NameDataset(val_words, tokens, max_len), batch_size=16)
    val_loss = float("nan")
    for _ in range(epochs):
        run_epoch(model, train_loader, criterion, len(tokens.itos), dev, optimizer)
        val_loss = run_epoch(model, val_loader, criterion, len(tokens.itos), dev, None)
    return model, tokens, train_words, val_words, val_loss


def sample_article(model: ArticleMiniGPT2, tokens: Tokens, n: int, prompt: str = "") -> list[str]:
    start = [tokens.bos] + [tokens.stoi[c] for c in prompt]
    return [tokens.decode(model.generate(start, tokens.eos)[1:]) for _ in range(n)]
