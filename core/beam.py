"""The most likely names: a beam search over completions of the prompt, under the same
constraints as sampling (the same `Steering` masks).

Each step extends every kept partial name by every allowed character and keeps the `width`
most likely; a name that may end there is collected with its end token's log-probability.
Extending only lowers a log-probability, so with total ranking the search stops as soon as
no kept partial name can beat the n-th best finished one. Ranking per character is not
monotone: it runs to the length limit and ranks every finished name. (An exact best-first
search was tried: under a rare constraint it expands too many partial names to answer in
time.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import torch

from .constraints import Steering
from .data import EOS
from .hooks import ConstraintMask
from .sampling import Sample, SampleConfig

if TYPE_CHECKING:
    from .sample import Sampler

MIN_WIDTH = 128  # partial names kept per step (at least 4 per name asked for)


@torch.inference_mode()
def most_likely(
    sampler: Sampler, config: SampleConfig, steering: Steering, stop: Callable[[], bool]
) -> list[Sample]:
    """Up to `config.n` distinct names of the highest log-probability that meet `config`
    (temperature, top-k and top-p do not apply: they change draws, not likelihoods)."""

    width = max(MIN_WIDTH, 4 * config.n)
    masks = ConstraintMask(steering, sampler.vocab, 1, -1, sampler.device)
    chars = sampler.vocab.tokens
    beams = [[sampler.vocab.start_id(config.category), *sampler.vocab.encode(config.prompt)]]
    states = [steering.start()]
    logprob = torch.tensor([_prefix_logprob(sampler, beams[0])], device=sampler.device)
    found: dict[str, Sample] = {}
    for length in range(len(config.prompt), steering.limit + 1):
        if not beams or stop() or _settled(config, found, float(logprob.max())):
            break
        allowed = torch.stack([masks.mask_for(state, length) for state in states])
        total = logprob[:, None] + sampler.next_logprobs(beams)
        total = total.masked_fill(~allowed, float("-inf"))
        for row in torch.nonzero(total[:, EOS].isfinite()).flatten().tolist():
            name = sampler.vocab.decode(beams[row])
            sample = Sample(name, float(total[row, EOS]), sampler.source_of(name))
            if config.accepts(name, sample.source):
                found[name] = sample
        total[:, : EOS + 1] = float("-inf")  # ended names are collected above
        flat = total.flatten()
        top = torch.topk(flat, min(width, int(flat.isfinite().sum())))
        rows = (top.indices // total.size(1)).tolist()
        tokens = (top.indices % total.size(1)).tolist()
        beams = [[*beams[r], t] for r, t in zip(rows, tokens, strict=True)]
        states = [steering.advance(states[r], chars[t]) for r, t in zip(rows, tokens, strict=True)]
        logprob = top.values
    return sorted(found.values(), key=config.rank_key, reverse=True)[: config.n]


def _settled(config: SampleConfig, found: dict[str, Sample], best_partial: float) -> bool:
    """With total ranking: no partial name can still enter the top n."""
    if config.rank != "total" or len(found) < config.n:
        return False
    nth = sorted((s.logprob for s in found.values()), reverse=True)[config.n - 1]
    return best_partial <= nth


def _prefix_logprob(sampler: Sampler, ids: list[int]) -> float:
    """Log-probability of the prompt's characters (0 for no prompt)."""
    if len(ids) < 2:
        return 0.0
    logprobs = sampler.next_logprobs([ids[:end] for end in range(1, len(ids))])
    index = torch.tensor(ids[1:], device=sampler.device)[:, None]
    return float(logprobs.gather(-1, index).sum())
