"""The logits hooks of the sampling pipeline (sampler.py): each takes the tokens so far and a
step's logits, and returns the logits to draw from. The constraint mask comes first, then
temperature, top-k and top-p."""

from __future__ import annotations

from collections.abc import Callable

import torch
from minigpt2.core.data.vocab import EOS, Vocab
from minigpt2.core.sample.constraints import OFF_LIST, State, Steering
from torch import Tensor

LogitsHook = Callable[[Tensor, Tensor], Tensor]  # (tokens so far (B, t), logits (B, V)) -> logits


class ConstraintMask:
    """The first hook: each row's allowed tokens from its `Steering` state and length, and
    its place in the blocklist's trie (followed only when there is a blocklist). At the
    model's own limit every character stays open: choosing one cuts the name there."""

    def __init__(
        self, steering: Steering, vocab: Vocab, batch: int, cut_at: int, device: torch.device
    ) -> None:
        self.steering = steering
        self.vocab = vocab
        self.cut_at = cut_at  # the model's own limit
        self.device = device
        self.states: list[State] = [steering.start()] * batch
        self.blocked = steering.blocked
        self.nodes: list[int] = [self.blocked.start()] * batch
        self.masks: dict[tuple[State, int, int], Tensor] = {}
        self.targets: dict[tuple[State, int], int] = {}

    def __call__(self, tokens: Tensor, logits: Tensor) -> Tensor:
        length = tokens.size(1) - 1  # characters so far (BOS first)
        if length > len(self.steering.config.prompt) and not self.steering.trivial:
            chars = self.vocab.tokens
            self.states = [
                self.steering.advance(state, chars[t]) if t > EOS else state
                for state, t in zip(self.states, tokens[:, -1].tolist(), strict=True)
            ]
        if not self.blocked.empty and length > len(self.steering.config.prompt):
            self.nodes = [
                self.blocked.advance(node, self.vocab.tokens[t]) if t > EOS else OFF_LIST
                for node, t in zip(self.nodes, tokens[:, -1].tolist(), strict=True)
            ]
        if self.steering.trivial and (
            self.blocked.empty or all(node == OFF_LIST for node in self.nodes)
        ):
            allowed = self.mask_for(self.states[0], length)
        else:
            allowed = torch.stack([
                self.mask_for(state, length, node)
                for state, node in zip(self.states, self.nodes, strict=True)
            ])
        return steer_end(logits, allowed, self._targets(length)).masked_fill(
            ~allowed, float("-inf")
        )

    def mask_for(self, state: State, length: int, node: int = OFF_LIST) -> Tensor:
        """(V,) bool: the tokens a name in `state`, `length` characters long, at `node` of
        the blocklist's trie, may take next."""
        key = (state, length, node)
        if key not in self.masks:
            may_end, chars = self.blocked.allowed(node, state, length)
            if length == self.cut_at and self.steering.can_end(state, length):
                chars = tuple(self.steering.chars)  # past the limit: the name is cut
            allowed = torch.zeros(self.vocab.size, dtype=torch.bool)
            allowed[[self.vocab.index[ch] for ch in chars]] = True
            allowed[EOS] = may_end
            self.masks[key] = allowed.to(self.device)
            needed = self.steering.next_needed(state)
            steered_end, steered_chars = self.steering.allowed(state, length)
            self.targets[state, length] = (
                self.vocab.index[needed] if needed in steered_chars and not steered_end else -1
            )
        return self.masks[key]

    def _targets(self, length: int) -> Tensor | None:
        """Per row, the token that takes the end token's probability (-1: none)."""
        if self.steering.trivial:
            return None
        ids = [self.targets[(state, length)] for state in self.states]
        return torch.tensor(ids, device=self.device)


def steer_end(logits: Tensor, allowed: Tensor, targets: Tensor | None) -> Tensor:
    """Where the model would end a name that still lacks its required text, move the end
    token's probability onto the next character of that text: the name's wish to end
    becomes its ending, instead of running on until the length limit forces it."""
    if targets is None:
        return logits
    use = (targets >= 0) & ~allowed[:, EOS]
    if not bool(use.any()):
        return logits
    index = targets.clamp(min=0)[:, None]
    current = logits.gather(-1, index)
    merged = torch.logaddexp(current, logits[:, EOS : EOS + 1])
    return logits.scatter(-1, index, torch.where(use[:, None], merged, current))


def top_k(logits: Tensor, k: int) -> Tensor:
    kth = torch.topk(logits, k, dim=-1).values[:, -1:]
    return logits.masked_fill(logits < kth, float("-inf"))


def nucleus(logits: Tensor, top_p: float) -> Tensor:
    """Keep the smallest set of most likely tokens whose probability reaches `top_p`."""
    sorted_logits, order = logits.sort(-1, descending=True)
    cumulative = sorted_logits.softmax(-1).cumsum(-1)
    # Drop a token when the ones before it already reach top_p (the first always stays).
    drop_sorted = (cumulative - sorted_logits.softmax(-1)) >= top_p
    drop = drop_sorted.scatter(-1, order, drop_sorted)
    return logits.masked_fill(drop, float("-inf"))
