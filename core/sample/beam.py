"""The most likely names: a search over completions of the prompt, under the same constraints
as sampling (the same `Steering` masks) and for the same kind of name, that proves its
ranking when it can.

The bound: extending a name only lowers its log-probability, so once n names are found, a
partial name below the n-th best (the bar) cannot lead into the top n, and is dropped. The
search goes length by length: every kept partial name of one length is extended by every
allowed character in one batched forward pass through a KV cache. It makes two passes:

1. A beam, for good names fast: at each length, the likeliest partial names (`MIN_WIDTH`, or
   4 per name asked for) of each constraint state, that is how far a name has got toward
   `contains` and `ends_with`. Banking by state keeps the names that paid early for a rare
   required text ("zq") from being crowded out by those that put it off to a forced, costly
   end (the old single beam of 128 returned -32.7 under `contains zq`; this one -19.1).
2. The proof: every partial name at or above the bar, the bar rising as better names are
   found. When nothing is left, the names are the exact top n.

An exact best-first search alone cannot reach a rare constraint in time: it extends every
prefix likelier than the answer, and under `contains zq` that is nearly all of them. So when
the proof would hold more than `MAX_ROWS` partial names at one length, or the time limit
comes first, it stops, and the beam's names stand. Each name says whether its place is
proven (`Sample.proven`): no name left unexplored could rank above it.

Ranking per character is not monotone (a longer name can score higher per character). Its
bound spreads a partial name's log-probability over the most tokens a name may have: sound,
but loose, so a per-character ranking is proven only on small searches.

The distribution ranked is `Sampler.search_logprobs(config)`'s `NextLogprobs` (a start,
then steps that extend chosen rows by one token): the model's own for one kind, a mix of
kinds, or either leaned towards examples.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import torch
from minigpt2.core.data.vocab import EOS
from minigpt2.core.model import KVCache, MiniGPT2
from minigpt2.core.sample.constraints import State, Steering
from minigpt2.core.sample.hooks import ConstraintMask
from minigpt2.core.sample.logprobs import next_logprobs, token_logprobs
from minigpt2.core.sample.request import Sample, SampleConfig
from torch import Tensor

if TYPE_CHECKING:
    from minigpt2.core.sample.sampler import Sampler

MIN_WIDTH = 128  # partial names the first pass keeps per constraint state and length
MAX_ROWS = 8192  # partial names the proof may hold at one length (40-100 MB of KV cache here)


class NextLogprobs:
    """The next-token distribution names are ranked by (`Sampler.search_logprobs` gives
    it), over a batch of rows that the search extends one token at a time: each step's
    logprobs.next_logprobs of the model's readings after each kind's start token, mixed by
    share, with a lean towards examples (like.py) when given; one kind and no lean is the
    model's own. Guidance is left out: it leans draws, not likelihoods. Keeps a KV cache of
    one row per kind for each of the search's rows."""

    def __init__(self, model: MiniGPT2, starts: list[tuple[int, float]],
                 lean: Callable[[Tensor], Tensor] | None = None) -> None:
        self.model = model
        self.device = next(model.parameters()).device
        self.starts = torch.tensor([start for start, _ in starts], device=self.device)
        shares = torch.tensor([share for _, share in starts], device=self.device)
        self.shares = shares if len(starts) > 1 else None  # one kind: the model's own
        self.lean = lean  # (B, 2) last two tokens -> (B, V) added before renormalising
        self.cache = KVCache(model.config, len(starts), self.device)
        self.last_two = torch.zeros((1, 2), dtype=torch.long, device=self.device)
        self.kind_offsets: Tensor | None = None

    def start(self, ids: list[int]) -> tuple[float, Tensor]:
        """For one row, the start token then the prompt's characters: the prompt's
        log-probability and the (1, V) log-probabilities of the token after it."""
        kinds = len(self.starts)
        self.cache = KVCache(self.model.config, kinds, self.device)
        idx = torch.tensor([ids] * kinds, device=self.device)
        idx[:, 0] = self.starts
        logits, _ = self.model(idx, cache=self.cache)  # (K, T, V): the prompt's positions
        self.kind_offsets = self.cache.kind_offset  # (K, 1, C) with a kind_gain model, or None
        padded = torch.tensor([ids[0], *ids], device=self.device)  # the start pads "before"
        pairs = torch.stack([padded[:-1], padded[1:]], 1)  # (T, 2): the last two at each step
        logprobs = self._next(logits, pairs)
        target = torch.tensor(ids[1:], device=self.device)
        prompt = float(token_logprobs(logprobs[:-1], target).sum())
        self.last_two = pairs[-1:]
        return prompt, logprobs[-1:]

    def step(self, parents: Tensor, tokens: Tensor) -> Tensor:
        """New rows: row `parents[i]` of the last call extended by `tokens[i]`. Returns
        their (B, V) next-token log-probabilities."""
        rows = len(self.last_two)
        kinds = len(self.starts)
        picks = (torch.arange(kinds, device=self.device)[:, None] * rows + parents).flatten()
        self.cache = self.cache.extend_rows(picks)  # the kept rows, kind-major
        if self.kind_offsets is not None:  # each row's kind, in the cache's kind-major order
            self.cache.kind_offset = self.kind_offsets.repeat_interleave(len(parents), 0)
        logits, _ = self.model(tokens.repeat(kinds)[:, None], cache=self.cache)
        self.last_two = torch.stack([self.last_two[parents, 1], tokens], 1)
        return self._next(logits[:, -1].unflatten(0, (kinds, -1)), self.last_two)

    def _next(self, logits: Tensor, last_two: Tensor) -> Tensor:
        """(K, N, V) logits, one slice per kind, to the (N, V) log-probabilities ranked."""
        lean = self.lean(last_two) if self.lean is not None else None
        if self.shares is None:
            return next_logprobs(logits[0], lean=lean)
        return next_logprobs(logits, self.shares, lean)


@dataclass
class _Rows:
    """The partial names of one length: their tokens (start token first), log-probabilities
    and steering state ids."""

    tokens: Tensor  # (R, t)
    logprob: Tensor  # (R,)
    states: Tensor  # (R,)
    next_logprobs: Tensor  # (R, V)


@torch.inference_mode()
def most_likely(
    sampler: Sampler,
    config: SampleConfig,
    steering: Steering,
    stop: Callable[[], bool],
    cancelled: Callable[[], bool] = lambda: False,
) -> list[Sample]:
    """Up to `config.n` distinct names of the highest log-probability (or per-character
    log-probability, with `rank="per_char"`) that meet `config`, best first. Temperature,
    top-k, top-p and guidance do not apply: they change draws, not likelihoods. With
    `include_cut`, a name that reaches the model's length limit is returned cut, ranked by
    its characters' log-probability, as sampling reports a cut name."""
    # The beam always runs to its end unless cancelled: it is short (tens of ms), and on a
    # busy machine a time limit that cut it gave no names at all ("found 0 of 3"); the
    # time limit bounds the proof.
    search = _Search(sampler, config, steering, cancelled)
    search.run(max(MIN_WIDTH, 4 * config.n), give_up_when_full=False)
    search.stop = stop
    if not search.complete() and not stop():
        search.run(MAX_ROWS, give_up_when_full=True)
    return search.results()


class _Search:
    """The names found so far over the passes, and how far they are proven."""

    def __init__(
        self, sampler: Sampler, config: SampleConfig, steering: Steering, stop: Callable[[], bool]
    ) -> None:
        self.sampler = sampler
        self.logprobs = sampler.search_logprobs(config)
        self.config = config
        self.steering = steering
        self.stop = stop
        self.states = _States(steering, sampler)
        self.found: dict[str, Sample] = {}
        self.best_ranks: list[float] = []  # a min-heap of the n best ranks found
        # A name ranking above this is sure to be found: min over the passes of the best
        # bound on what each left unexplored.
        self.unexplored = math.inf
        self.cut_at = sampler.max_chars if config.include_cut and steering.trivial else -1

    def results(self) -> list[Sample]:
        best = sorted(self.found.values(), key=self.config.rank_key, reverse=True)
        return [
            replace(s, proven=self.config.rank_key(s) >= self.unexplored)
            for s in best[: self.config.n]
        ]

    def complete(self) -> bool:
        """Whether the top n are found and proven (or every name is found)."""
        return self.unexplored == -math.inf or self._bar() >= self.unexplored

    def run(self, width: int, give_up_when_full: bool) -> None:
        """One pass, keeping up to `width` partial names per length: the likeliest of each
        constraint state, or (giving up when full) all above the bar."""
        unexplored = -math.inf
        rows = self._root()
        prompt = len(self.config.prompt)
        for length in range(prompt, self.steering.limit + 1):
            if self.stop():
                unexplored = max(unexplored, float(self._bound(rows.logprob.max())))
                break
            allowed = self.states.masks(rows.states, length)
            totals = (rows.logprob[:, None] + rows.next_logprobs).masked_fill(~allowed, -math.inf)
            if length == self.cut_at:  # a name that reaches the limit is returned cut
                self._collect_cut(rows, allowed[:, EOS])
            else:
                self._collect_ended(rows, totals[:, EOS])
            totals[:, : EOS + 1] = -math.inf  # ended names are collected above
            children = _Children.of(totals, self.states.successors(rows.states))
            low = self._bound(children.values) < self._bar()
            unexplored = max(unexplored, children.best(low, self._bound))
            children = children.where(~low)
            if not len(children.values):
                break
            if give_up_when_full and len(children.values) > width:
                unexplored = max(unexplored, float(self._bound(children.values.max())))
                break
            if not give_up_when_full:
                kept = children.banked_top(width)
                unexplored = max(unexplored, children.best(~kept, self._bound))
                children = children.where(kept)
            rows = self._extend(rows, children)
        self.unexplored = min(self.unexplored, unexplored)

    def _root(self) -> _Rows:
        ids = [self.sampler.vocab.start_id(self.config.category)]
        ids += self.sampler.vocab.encode(self.config.prompt)
        prompt, next_logprobs = self.logprobs.start(ids)
        device = next_logprobs.device
        return _Rows(
            torch.tensor([ids], device=device),
            torch.tensor([prompt], device=device),
            torch.tensor([self.states.id(self.steering.start())], device=device),
            next_logprobs,
        )

    def _extend(self, rows: _Rows, children: _Children) -> _Rows:
        tokens = torch.cat([rows.tokens[children.parents], children.tokens[:, None]], 1)
        next_logprobs = self.logprobs.step(children.parents, children.tokens)
        return _Rows(tokens, children.values, children.states, next_logprobs)

    def _bound(self, logprob: Tensor) -> Tensor:
        """The best rank a name extending a partial name of this log-probability can reach."""
        if self.config.rank == "total":
            return logprob
        return logprob / (self.steering.limit + 1)  # logprob <= 0: most tokens, best score

    def _bar(self) -> float:
        """The n-th best rank found so far: what a new name must reach to count."""
        return self.best_ranks[0] if len(self.best_ranks) == self.config.n else -math.inf

    def _collect_ended(self, rows: _Rows, logprob: Tensor) -> None:
        self._collect(rows, logprob, tokens=rows.tokens.size(1), cut=False)

    def _collect_cut(self, rows: _Rows, may_end: Tensor) -> None:
        """Names at the model's length limit, asked for cut: ranked by their characters
        alone, as sampling reports a cut name (never below the same name ended)."""
        logprob = rows.logprob.masked_fill(~may_end, -math.inf)
        self._collect(rows, logprob, tokens=rows.tokens.size(1) - 1, cut=True)

    def _collect(self, rows: _Rows, logprob: Tensor, tokens: int, cut: bool) -> None:
        """Offer the rows' names of rank at or above the bar (`tokens`: those predicted)."""
        ranks = logprob if self.config.rank == "total" else logprob / tokens
        keep = ranks.isfinite() & (ranks >= self._bar())
        for row in torch.nonzero(keep).flatten().tolist():
            self._offer(rows.tokens[row], float(logprob[row]), cut)

    def _offer(self, tokens: Tensor, logprob: float, cut: bool) -> None:
        name = self.sampler.vocab.decode(tokens.tolist())
        sample = Sample(name, logprob, self.sampler.source_of(name), cut)
        if name in self.found or not self.config.accepts(name, sample.source):
            return  # (the proof finds the beam's names again)
        self.found[name] = sample
        if len(self.best_ranks) < self.config.n:
            heapq.heappush(self.best_ranks, self.config.rank_key(sample))
        else:
            heapq.heappushpop(self.best_ranks, self.config.rank_key(sample))


@dataclass
class _Children:
    """The candidate extensions of a level's rows, flattened: one per (row, character)."""

    values: Tensor  # their log-probabilities
    parents: Tensor
    tokens: Tensor
    states: Tensor

    @classmethod
    def of(cls, totals: Tensor, successors: Tensor) -> _Children:
        index = torch.nonzero(totals.isfinite().flatten()).flatten()
        parents, tokens = index // totals.size(1), index % totals.size(1)
        return cls(totals.flatten()[index], parents, tokens, successors[parents, tokens])

    def where(self, keep: Tensor) -> _Children:
        return _Children(self.values[keep], self.parents[keep], self.tokens[keep],
                         self.states[keep])

    def best(self, among: Tensor, bound: Callable[[Tensor], Tensor]) -> float:
        """The best bound among the children marked in `among` (-inf for none)."""
        if not bool(among.any()):
            return -math.inf
        return float(bound(self.values[among].max()))

    def banked_top(self, width: int) -> Tensor:
        """Which children to keep: the `width` likeliest of each steering state."""
        keep = torch.zeros_like(self.values, dtype=torch.bool)
        for state in torch.unique(self.states).tolist():
            bank = torch.nonzero(self.states == state).flatten()
            if len(bank) > width:
                bank = bank[torch.topk(self.values[bank], width).indices]
            keep[bank] = True
        return keep


class _States:
    """Steering states as small ints, with each one's successor by token, so a level's
    child states are one tensor lookup."""

    def __init__(self, steering: Steering, sampler: Sampler) -> None:
        self.steering = steering
        self.vocab = sampler.vocab
        self.device = sampler.device
        self.known: dict[State, int] = {}
        self.order: list[State] = []
        self.table = torch.zeros((0, self.vocab.size), dtype=torch.long, device=self.device)
        self._masks = ConstraintMask(steering, self.vocab, 1, -1, sampler.device)

    def id(self, state: State) -> int:
        if state not in self.known:
            self.known[state] = len(self.order)
            self.order.append(state)
        return self.known[state]

    def successors(self, ids: Tensor) -> Tensor:
        """(R, V): the state each row reaches with each token (its own for a non-character)."""
        while len(self.table) < len(self.order):
            state, own = self.order[len(self.table)], len(self.table)
            row = [
                self.id(self.steering.advance(state, token)) if self.vocab.is_char(i) else own
                for i, token in enumerate(self.vocab.tokens)
            ]
            self.table = torch.cat([self.table, torch.tensor([row], device=self.device)])
        return self.table[ids]

    def masks(self, ids: Tensor, length: int) -> Tensor:
        """(R, V) bool: the tokens each row may take next."""
        present = torch.unique(ids)
        stacked = torch.stack(
            [self._masks.mask_for(self.order[i], length) for i in present.tolist()]
        )
        return stacked[torch.searchsorted(present, ids)]
