"""Batched name generation with a KV cache, scoring, and novel/train/val labels.

One pipeline makes every name: at each step the model's logits pass through a list of hooks
(`LogitsHook`, hooks.py, as Hugging Face's logits processors): first the constraint mask
(which tokens keep the name on a path that meets its constraints and length limits), then
temperature, top-k and top-p. A token is drawn from what is left; its log-probability is
taken from the model's own logits, so reported scores stay honest. `SampleConfig.accepts` is
the one filter. A new sampling option is a `SampleConfig` field, plus a hook in `_pipeline`
if it changes the choice of tokens. Guided kinds and mixes of kinds change the model
itself: `_generating_model` then gives a `Blend` of streams (guidance.py) in its place;
names like examples add a hook (like.py).
"""

from __future__ import annotations

import math
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from minigpt2.core.checkpoint import Checkpoint, load_checkpoint
from minigpt2.core.data.vocab import BOS, EOS, PAD, Vocab, chars_that_fit
from minigpt2.core.data.words import normalise
from minigpt2.core.model import KVCache, MiniGPT2
from minigpt2.core.sample.beam import NextLogprobs, most_likely
from minigpt2.core.sample.constraints import ImpossibleConstraints, Steering
from minigpt2.core.sample.guidance import Blend, kind_streams
from minigpt2.core.sample.hooks import ConstraintMask, LogitsHook, nucleus, top_k
from minigpt2.core.sample.like import LikeHook, contrast, words_model
from minigpt2.core.sample.logprobs import next_logprobs, token_logprobs, word_logprobs
from minigpt2.core.sample.request import (
    AttentionMap,
    Kinds,
    Mix,
    Sample,
    SampleConfig,
    Source,
    WordScore,
)
from minigpt2.core.sample.rounds import Drawn, draw_rounds
from torch import Tensor

LIKES_KEPT = 4  # contrasts fitted to examples, kept for the next requests (like.py)
Clock = Callable[[], float]


class Sampler:
    """Generates and scores names with a trained model. Not thread-safe: give each thread
    its own (they are cheap to build from a snapshot). `clock` bounds a request's time."""

    def __init__(
        self,
        model: MiniGPT2,
        vocab: Vocab,
        train_words: Iterable[str] = (),
        val_words: Iterable[str] = (),
        *,
        clock: Clock = time.monotonic,
    ) -> None:
        self.model = model.eval()
        self.vocab = vocab
        self.train_words = frozenset(train_words)
        self.val_words = frozenset(val_words)
        self.device = next(model.parameters()).device
        self.clock = clock
        self._words_model: np.ndarray | None = None  # the training words' trigrams, like.py
        self._likes: dict[tuple[str, ...], Tensor] = {}  # examples: their contrast

    @classmethod
    def from_checkpoint(cls, source: Path | str | Checkpoint, device: str = "cpu") -> Sampler:
        """A sampler on a checkpoint's best weights, from its file or loaded already."""
        ckpt = source if isinstance(source, Checkpoint) else load_checkpoint(source)
        return cls(ckpt.build_model(device), ckpt.vocab, ckpt.train_words, ckpt.val_words)

    @property
    def categories(self) -> list[str]:
        """The kinds of names this model can be asked for; empty for a single-list model."""
        return self.vocab.categories

    @property
    def max_chars(self) -> int:
        return chars_that_fit(self.model.config.block_size)

    @property
    def folds_case(self) -> bool:
        """Words are lower-cased for training unless --keep-case; a model trained on folded
        words has no character that lower() changes, so its input is folded the same way."""
        return all(ch.lower() == ch for ch in self.vocab.chars)

    def fold(self, text: str) -> str:
        """`text` as the training words were written: composed (NFC), lower-cased if they were."""
        return normalise(text, keep_case=not self.folds_case)

    def source_of(self, name: str) -> Source:
        if name in self.train_words:
            return "train"
        return "val" if name in self.val_words else "novel"

    def steering(self, config: SampleConfig) -> Steering:
        """Check `config` against this model, before any sampling. Raises
        UnknownCharacterError or ImpossibleConstraints (both ValueError)."""
        self.check_kinds(config.kinds)
        for text in (config.prompt, config.ends_with, config.contains):
            self.vocab.encode(text)
        self.check_examples(config.like)
        if len(config.prompt) >= self.max_chars:
            raise ImpossibleConstraints(
                f"the prompt is too long: this model writes at most {self.max_chars} characters"
            )
        limit = min(config.max_len or self.max_chars, self.max_chars)
        steering = Steering(config, self.vocab.chars, limit)
        steering.check()
        return steering

    def check_kinds(self, kinds: Kinds) -> None:
        """Raises UnknownCategoryError for a kind this model lacks, and ValueError for a mix
        of kinds on a model without them."""
        mix = Mix.of(kinds)
        if len(mix) > 1 and not self.categories:
            raise ValueError(f"a mix of kinds ({', '.join(mix)}) needs a model trained on"
                             " several lists; this model has no categories")
        for kind in mix:
            self.vocab.start_id(kind)

    def check_examples(self, examples: tuple[str, ...]) -> None:
        """Raises ValueError naming an example the model cannot write."""
        for name in examples:
            if unknown := self.vocab.unknown_chars(name):
                shown = ", ".join(repr(c) for c in unknown)
                raise ValueError(f"the example {name!r} holds {shown}, which the model does not"
                                 f" know (it knows {''.join(self.vocab.chars)})")
            if len(name) > self.max_chars:
                raise ValueError(f"the example {name!r} is longer than this model's"
                                 f" {self.max_chars} characters")

    def folded(self, config: SampleConfig) -> SampleConfig:
        """The request with its text folded as the training words were (see fold): the
        options that declare that they fold."""
        return config.folded_with(self.fold)

    def sample(
        self, config: SampleConfig, cancelled: Callable[[], bool] = lambda: False
    ) -> list[Sample]:
        """Up to `config.n` names meeting `config`; fewer when its time limit runs out (or
        `cancelled()` turns true). Raises ValueError for a request no name can meet."""
        config = self.folded(config)
        steering = self.steering(config)
        if config.like:  # fitted now, before the clock starts; and an example is no new name
            self.like_hook(config)
            config = replace(config, exclude=config.exclude | set(config.like))
        deadline = self.clock() + (config.time_limit_s or math.inf)

        def stop() -> bool:
            return self.clock() >= deadline or cancelled()

        if config.most_likely:  # ranked as like the examples, but scored as the model's own
            found = most_likely(self, config, steering, stop, cancelled)
            return self._own_logprobs(found, config.kinds) if config.like else found
        generator = torch.Generator(self.device)
        generator.manual_seed(
            # Unseeded: not from torch's global generator, which a run in training on another
            # thread draws its dropout from (a draw here would change that run).
            config.seed if config.seed is not None else secrets.randbits(62)
        )
        def draw(batch: int, stop_round: Callable[[], bool]) -> list[Drawn]:
            return self._generate(steering, batch, config, generator, stop_round)

        results = draw_rounds(config, draw, self.source_of, stop, cancelled)
        if not isinstance(self._generating_model(config), MiniGPT2):
            results = self._own_logprobs(results, config.kinds)
        if config.sort_by_likelihood:
            results.sort(key=config.rank_key, reverse=True)
        return results

    def _generating_model(self, config: SampleConfig) -> MiniGPT2 | Blend:
        """The model, with the start token of the kind asked for (or none); or, for guided
        sampling or a mix of kinds, the blend that stands in for it."""
        guidance = config.guidance if config.kinds else 0.0
        streams = kind_streams(self.vocab, config.kinds, guidance)
        if len(streams) == 1 and streams[0].weight == 1:
            return self.model
        return Blend(self.model, streams)

    def like_hook(self, config: SampleConfig) -> LikeHook | None:
        """The lean towards `config.like`'s examples, fitted at the first request for them."""
        if not config.like:
            return None
        if self._words_model is None:
            self._words_model = words_model(self.vocab, sorted(self.train_words))
        if config.like not in self._likes:
            while len(self._likes) >= LIKES_KEPT:
                del self._likes[next(iter(self._likes))]  # the oldest
            self._likes[config.like] = contrast(self.vocab, config.like, self._words_model)
        return LikeHook(self._likes[config.like], config.like_strength, self.vocab)

    def _own_logprobs(self, samples: list[Sample], kinds: Kinds) -> list[Sample]:
        """Guided names carry the model's own log-probability under the kinds, as score()."""
        names = [s.name for s in samples]
        logprobs = word_logprobs(self.model, self.vocab, names, kinds)
        return [replace(s, logprob=lp) for s, lp in zip(samples, logprobs, strict=True)]

    def _pipeline(self, config: SampleConfig, mask: LogitsHook) -> list[LogitsHook]:
        """The hooks a step's logits pass through, in order. Greedy (temperature 0) takes
        the argmax after the mask, so the others do not apply."""
        hooks = [mask]
        if like := self.like_hook(config):  # part of the model: before temperature
            hooks.append(like)
        if config.temperature > 0:
            hooks.append(lambda _, logits: logits / config.temperature)
            if config.top_k is not None and config.top_k < self.vocab.size:
                hooks.append(lambda _, logits: top_k(logits, config.top_k))  # type: ignore[arg-type]
            if config.top_p is not None and config.top_p < 1:
                hooks.append(lambda _, logits: nucleus(logits, config.top_p))  # type: ignore[arg-type]
        return hooks

    @torch.inference_mode()
    def _generate(
        self,
        steering: Steering,
        batch: int,
        config: SampleConfig,
        generator: torch.Generator,
        stop: Callable[[], bool] = lambda: False,
    ) -> list[Drawn]:
        """Up to `batch` names as (name, logprob, cut); fewer if `stop()` turns true
        midway. A name reaching the model's own limit where the model would go on is cut
        there (unless a required text steered the end): its logprob then has no end token."""
        model = self._generating_model(config)
        cache = KVCache(model.config, batch, self.device)
        start = self.vocab.start_id(config.category)
        prompt = torch.tensor([start, *self.vocab.encode(config.prompt)], device=self.device)
        logits, _ = model(prompt.expand(batch, -1), cache=cache)
        logprob = token_logprobs(next_logprobs(logits[0, :-1]), prompt[1:]).sum()
        logprob = logprob.expand(batch).clone()
        last = logits[:, -1]
        # With a required text the end is steered there, so the limit forces it: no cut.
        cut_at = self.max_chars if steering.trivial else -1
        mask = ConstraintMask(steering, self.vocab, batch, cut_at, self.device)
        hooks = self._pipeline(config, mask)
        tokens = prompt.expand(batch, -1)
        done = torch.zeros(batch, dtype=torch.bool, device=self.device)
        cut = torch.zeros_like(done)
        for length in range(len(config.prompt), steering.limit + 1):
            scores = last
            for hook in hooks:
                scores = hook(tokens, scores)
            if config.temperature == 0:
                token = scores.argmax(-1)
            else:
                token = torch.multinomial(scores.softmax(-1), 1, generator=generator).squeeze(1)
            if length == cut_at:  # the model's limit: a character here means "go on"
                cut |= ~done & (token != EOS)
                done |= cut
            token = token.masked_fill(done, PAD)
            step_logprob = token_logprobs(next_logprobs(last), token)
            logprob += step_logprob.masked_fill(done, 0.0)
            tokens = torch.cat([tokens, token[:, None]], dim=1)
            done |= token == EOS
            if bool(done.all()) or stop():
                break
            logits, _ = model(token[:, None], cache=cache)
            last = logits[:, -1]
        names = [self.vocab.decode(row) for row in tokens.tolist()]
        rows = zip(names, logprob.tolist(), cut.tolist(), done.tolist(), strict=True)
        return [(name, lp, was_cut) for name, lp, was_cut, finished in rows if finished]

    def search_logprobs(self, config: SampleConfig) -> NextLogprobs:
        """The distribution the most-likely search ranks names by: the model's own, given
        the request's kind (guidance leans draws, not likelihoods); for a mix of kinds, their
        renormalised product (as score() reads it); leaned towards `config.like`'s examples
        as sampling is (like.py)."""
        like = self.like_hook(config)
        starts = [(self.vocab.start_id(k), s) for k, s in config.kinds.items()] or [(BOS, 1.0)]
        return NextLogprobs(self.model, starts, like.bias if like is not None else None)

    def score(self, word: str, category: Kinds = None) -> WordScore:
        """Log-probability of `word` as a whole name (its characters then the end token),
        as a name of `category` when given, or of a mix of kinds."""
        word = self.fold(word)
        self.check_kinds(category)
        ids = self._word_ids(word)
        [logprob] = word_logprobs(self.model, self.vocab, [word], category)
        return WordScore(word, logprob, logprob / (len(ids) - 1), self.source_of(word))

    def attention(self, word: str) -> AttentionMap:
        word = self.fold(word)
        ids = self._word_ids(word)[:-1]  # BOS + characters: the positions that attend
        weights = self.model.attention(torch.tensor([ids], device=self.device))
        return AttentionMap(["<bos>", *word], weights[:, 0].cpu().numpy())

    def _word_ids(self, word: str) -> list[int]:
        if not word:
            raise ValueError("an empty word")
        if len(word) > self.max_chars:
            raise ValueError(f"{word!r} is longer than this model's {self.max_chars} characters")
        return self.vocab.frame(word)
