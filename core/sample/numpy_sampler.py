"""Names, scores and attention maps from a NumpyModel: the app's sampler until torch has
loaded (tui/engine/engine.py).

It follows core/sample/sampler.py's pipeline step for step for the requests it `supports`: the
length mask (the model's limit cuts a name, as there), temperature, top-k, top-p, a draw
from what is left, the score from the model's own logits, and `SampleConfig.accepts` as the
one filter. Anything else (a kind of name, most likely, a required text) waits for torch:
`supports` says no to every field it does not know, so a new sampling option can never be
silently ignored here. Its log-probabilities mirror core/sample/logprobs.py's (the model's
own case) in numpy rather than call it: this sampler serves while torch is still loading.
"""

from __future__ import annotations

import math
import random
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import fields

import numpy as np
from minigpt2.core.data.vocab import EOS, PAD, chars_that_fit, framed_length
from minigpt2.core.sample.constraints import ImpossibleConstraints, Steering
from minigpt2.core.sample.numpy_model import NumpyCheckpoint, log_softmax, softmax
from minigpt2.core.sample.request import AttentionMap, Sample, SampleConfig, Source
from minigpt2.core.sample.rounds import Drawn, draw_rounds

# The SampleConfig fields this sampler honours; any other must keep its default.
HONOURED = frozenset({
    "prompt", "n", "temperature", "top_k", "top_p", "min_len", "max_len", "exclude_chars",
    "exclude", "seed", "novel_only", "unique", "sort_by_likelihood", "rank", "include_cut",
    "time_limit_s",
})


class NumpySampler:
    """Thread-safe: each request draws from its own generator."""

    def __init__(self, checkpoint: NumpyCheckpoint, clock: Callable[[], float] = time.monotonic
                 ) -> None:
        self.model = checkpoint.model
        self.vocab = checkpoint.vocab
        self.train_words = frozenset(checkpoint.train_words)
        self.val_words = frozenset(checkpoint.val_words)
        self.max_chars = chars_that_fit(self.model.config.block_size)
        self.clock = clock
        self._folds_case = all(ch.lower() == ch for ch in self.vocab.chars)

    @staticmethod
    def supports(config: SampleConfig) -> bool:
        defaults = SampleConfig()
        return all(getattr(config, f.name) == getattr(defaults, f.name)
                   for f in fields(SampleConfig) if f.name not in HONOURED)

    def source_of(self, name: str) -> Source:
        if name in self.train_words:
            return "train"
        return "val" if name in self.val_words else "novel"

    # --- sampling: sampler.py's Sampler.sample, for the requests it supports -----------------

    def sample(self, config: SampleConfig, cancelled: Callable[[], bool] = lambda: False
               ) -> list[Sample]:
        if not self.supports(config):
            raise ValueError("this request needs the torch sampler")
        config = self._folded(config)
        steering = self._steering(config)
        deadline = self.clock() + (config.time_limit_s or math.inf)

        def stop() -> bool:
            return self.clock() >= deadline or cancelled()

        # The standard library's generator, not numpy's: importing numpy.random (12 ms)
        # would delay the app's first names, which this sampler is there to hasten.
        rng = random.Random(config.seed if config.seed is not None else secrets.randbits(62))
        def draw(batch: int, stop_round: Callable[[], bool]) -> list[Drawn]:
            return self._generate(steering, batch, config, rng, stop_round)

        results = draw_rounds(config, draw, self.source_of, stop, cancelled)
        if config.sort_by_likelihood:
            results.sort(key=config.rank_key, reverse=True)
        return results

    def _folded(self, config: SampleConfig) -> SampleConfig:
        return config.folded_with(str.lower) if self._folds_case else config

    def _steering(self, config: SampleConfig) -> Steering:
        self.vocab.encode(config.prompt)  # UnknownCharacterError
        if len(config.prompt) >= self.max_chars:
            raise ImpossibleConstraints(
                f"the prompt is too long: this model writes at most {self.max_chars} characters")
        limit = min(config.max_len or self.max_chars, self.max_chars)
        steering = Steering(config, self.vocab.chars, limit)
        steering.check()
        return steering

    def _generate(self, steering: Steering, batch: int, config: SampleConfig,
                  rng: random.Random, stop: Callable[[], bool]
                  ) -> list[Drawn]:
        """Up to `batch` names as (name, logprob, cut), as Sampler._generate."""
        prompt = [self.vocab.start_id(None), *self.vocab.encode(config.prompt)]
        logits, cache = self.model.start(np.array([prompt]))
        logits = logits[0]
        prompt_logprob = log_softmax(logits[:-1])[np.arange(len(prompt) - 1), prompt[1:]].sum()
        logprob = np.full(batch, prompt_logprob, dtype=np.float64)
        last = np.repeat(logits[-1:], batch, axis=0)
        tokens = np.tile(np.array(prompt), (batch, 1))
        done = np.zeros(batch, dtype=bool)
        cut = np.zeros(batch, dtype=bool)
        rows = np.arange(batch)
        going = rows  # the rows not done, whose keys and values `cache` holds, in order
        cache = cache.rows(np.zeros(batch, dtype=int))
        for length in range(len(config.prompt), steering.limit + 1):
            scores = np.where(self._allowed(steering, length), last, -np.inf)
            token = self._choose(scores, config, rng)
            if length == self.max_chars:  # the model's limit: a character here means "go on"
                cut |= ~done & (token != EOS)
                done |= cut
            token = np.where(done, PAD, token)
            logprob += np.where(done, 0.0, log_softmax(last)[rows, token])
            tokens = np.concatenate([tokens, token[:, None]], axis=1)
            done |= token == EOS
            if done.all() or stop():
                break
            # Rows already done draw PAD whatever their logits: only the others are run.
            still = ~done[going]
            going, cache = going[still], cache.rows(still)
            last[going], cache = self.model.step(cache, token[going])
        names = [self.vocab.decode(row) for row in tokens.tolist()]
        return [(name, float(lp), bool(was_cut))
                for name, lp, was_cut, finished in zip(names, logprob, cut, done, strict=True)
                if finished]

    def _allowed(self, steering: Steering, length: int) -> np.ndarray:
        """(V,) bool, as hooks.ConstraintMask for a request with no required text."""
        may_end, chars = steering.allowed(steering.start(), length)
        if length == self.max_chars and may_end:
            chars = tuple(steering.chars)  # past the limit: the name is cut
        allowed = np.zeros(self.vocab.size, dtype=bool)
        allowed[[self.vocab.index[ch] for ch in chars]] = True
        allowed[EOS] = may_end
        return allowed

    @staticmethod
    def _choose(scores: np.ndarray, config: SampleConfig, rng: random.Random) -> np.ndarray:
        """Each row's next token: temperature, top-k and top-p, then a draw (as hooks.py)."""
        if config.temperature == 0:
            return scores.argmax(-1)
        scores = scores / config.temperature
        if config.top_k is not None and config.top_k < scores.shape[-1]:
            kth = np.sort(scores, axis=-1)[:, -config.top_k][:, None]
            scores = np.where(scores < kth, -np.inf, scores)
        if config.top_p is not None and config.top_p < 1:
            order = np.argsort(-scores, axis=-1, kind="stable")
            probs = np.take_along_axis(softmax(scores), order, axis=-1)
            drop_sorted = np.cumsum(probs, axis=-1) - probs >= config.top_p
            drop = np.zeros_like(drop_sorted)
            np.put_along_axis(drop, order, drop_sorted, axis=-1)
            scores = np.where(drop, -np.inf, scores)
        cdf = np.cumsum(softmax(scores.astype(np.float64)), axis=-1)
        cdf /= cdf[:, -1:]
        # The first token whose cumulative probability passes the draw: never one of
        # probability 0, as its cumulative value equals the one before it.
        draws = np.array([[rng.random()] for _ in range(len(cdf))])
        return (cdf <= draws).sum(-1)

    # --- scores, kinds and attention ---------------------------------------------------------

    def word_logprobs(self, words: Sequence[str], category: str | None = None) -> list[float]:
        """As logprobs.word_logprobs for one kind or none: -inf for a word the model cannot
        write."""
        self.vocab.start_id(category)  # an unknown category fails before any work
        scores = [float("-inf")] * len(words)
        usable = [i for i, w in enumerate(words)
                  if 0 < len(w) <= self.max_chars and not self.vocab.unknown_chars(w)]
        if not usable:
            return scores
        width = framed_length(max(len(words[i]) for i in usable))
        ids = np.array([self.vocab.encode_word(words[i], width, category) for i in usable])
        targets = ids[:, 1:]
        logp = np.take_along_axis(log_softmax(self.model.logits(ids[:, :-1])),
                                  targets[..., None], axis=-1)[..., 0]
        totals = np.where(targets == PAD, 0.0, logp).sum(-1)
        for i, total in zip(usable, totals, strict=True):
            scores[i] = float(total)
        return scores

    def best_categories(self, names: Sequence[str]) -> list[str | None]:
        """As logprobs.best_categories: per name, the kind the model finds it likeliest."""
        categories = self.vocab.categories
        if not categories:
            return [None] * len(names)
        scores = {c: self.word_logprobs(names, c) for c in categories}
        best: list[str | None] = []
        for i in range(len(names)):
            category = max(categories, key=lambda c: scores[c][i])
            best.append(category if scores[category][i] > float("-inf") else None)
        return best

    def attention(self, word: str) -> AttentionMap:
        """As Sampler.attention."""
        word = word.lower() if self._folds_case else word
        if not word:
            raise ValueError("an empty word")
        if len(word) > self.max_chars:
            raise ValueError(f"{word!r} is longer than this model's {self.max_chars} characters")
        ids = self.vocab.frame(word)[:-1]
        weights = self.model.attention(np.array([ids]))
        return AttentionMap(["<bos>", *word], weights[:, 0])
