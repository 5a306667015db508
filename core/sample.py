"""Batched name generation with a KV cache, scoring, and novel/train/val labels."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor

from .checkpoint import load_checkpoint
from .data import BOS, EOS, PAD, Vocab
from .model import KVCache, MiniGPT2
from .sampling import AttentionMap, Sample, SampleConfig, Source, WordScore

MAX_BATCH = 4096
MAX_ROUNDS = 8


class Sampler:
    """Generates and scores names with a trained model. Not thread-safe: give each thread
    its own (they are cheap to build from a snapshot)."""

    def __init__(
        self,
        model: MiniGPT2,
        vocab: Vocab,
        train_words: Iterable[str] = (),
        val_words: Iterable[str] = (),
    ) -> None:
        self.model = model.eval()
        self.vocab = vocab
        self.train_words = frozenset(train_words)
        self.val_words = frozenset(val_words)
        self.device = next(model.parameters()).device
        # Tokens that are never a valid next character: padding and a second BOS.
        self._banned = torch.tensor([PAD, BOS], device=self.device)

    @classmethod
    def from_checkpoint(cls, path: Path | str, device: str = "cpu") -> Sampler:
        ckpt = load_checkpoint(path)
        return cls(ckpt.build_model(device), ckpt.vocab, ckpt.train_words, ckpt.val_words)

    @property
    def max_chars(self) -> int:
        return self.model.config.block_size - 2

    def source_of(self, name: str) -> Source:
        if name in self.train_words:
            return "train"
        return "val" if name in self.val_words else "novel"

    def sample(self, config: SampleConfig) -> list[Sample]:
        """Names that start with `config.prompt`. Raises UnknownCharacterError."""
        prompt_ids = [BOS, *self.vocab.encode(config.prompt)]
        max_chars = min(config.max_len or self.max_chars, self.max_chars)
        if len(config.prompt) >= max_chars:
            raise ValueError(
                f"the prompt is too long: this model writes at most {max_chars} characters"
            )
        generator = torch.Generator(self.device)
        generator.manual_seed(
            config.seed if config.seed is not None else int(torch.randint(2**62, ()).item())
        )
        results: list[Sample] = []
        seen: set[str] = set()
        for _ in range(MAX_ROUNDS):
            wanted = config.n - len(results)
            batch = min(MAX_BATCH, wanted if self._keeps_all(config) else max(2 * wanted, 32))
            before = len(results)
            for name, logprob, ended in self._generate(
                prompt_ids, batch, max_chars + 2, config, generator
            ):
                if not (ended or config.keep_cut):
                    continue
                sample = Sample(name, logprob, self.source_of(name), cut=not ended)
                if (config.novel_only and sample.source != "novel") or (
                    config.unique and name in seen
                ):
                    continue
                seen.add(name)
                results.append(sample)
                if len(results) == config.n:
                    break
            if len(results) == config.n or (len(results) == before and config.temperature == 0):
                break
        if config.sort_by_likelihood:
            results.sort(key=lambda s: s.logprob, reverse=True)
        return results

    @staticmethod
    def _keeps_all(config: SampleConfig) -> bool:
        return not (config.novel_only or config.unique)

    @torch.inference_mode()
    def _generate(
        self,
        prompt_ids: list[int],
        batch: int,
        max_tokens: int,
        config: SampleConfig,
        generator: torch.Generator,
    ) -> list[tuple[str, float, bool]]:
        """`batch` continuations of the prompt: (name, log-probability, ended); a name that
        did not end reached the length limit."""
        model = self.model
        cache = KVCache(model.config, batch, self.device)
        prompt = torch.tensor(prompt_ids, device=self.device)
        logits, _ = model(prompt.expand(batch, -1), cache=cache)
        logprob = F.log_softmax(logits[0, :-1], -1).gather(-1, prompt[1:, None]).sum()
        logprob = logprob.expand(batch).clone()
        last = logits[:, -1]
        steps = max_tokens - len(prompt_ids)
        out = torch.full((batch, steps), PAD, device=self.device)
        done = torch.zeros(batch, dtype=torch.bool, device=self.device)
        for t in range(steps):
            token = self._choose(last, config, generator, allow_end=t > 0 or len(prompt_ids) > 1)
            token = token.masked_fill(done, PAD)
            step_logprob = F.log_softmax(last, -1).gather(-1, token[:, None]).squeeze(1)
            if t + 1 == steps:  # the end token's place: a name still going here is cut
                cut_logprob = logprob.clone()
            logprob += step_logprob.masked_fill(done, 0.0)
            out[:, t] = token
            done |= token == EOS
            if t + 1 == steps or bool(done.all()):
                break
            logits, _ = model(token[:, None], cache=cache)
            last = logits[:, -1]
        prefix = self.vocab.decode(prompt_ids)
        ended = done.tolist()
        if t + 1 == steps and not all(ended):  # cut names end one character early
            logprob = torch.where(done, logprob, cut_logprob)
            out[~done, t] = PAD
        return [
            (prefix + self.vocab.decode(row), lp, finished)
            for row, lp, finished in zip(out.tolist(), logprob.tolist(), ended, strict=True)
        ]

    def _choose(
        self, logits: Tensor, config: SampleConfig, generator: torch.Generator, allow_end: bool
    ) -> Tensor:
        logits = logits.index_fill(-1, self._banned, float("-inf"))
        if not allow_end:  # an empty name is no name
            logits[:, EOS] = float("-inf")
        if config.temperature == 0:
            return logits.argmax(-1)
        logits = logits / config.temperature
        if config.top_k is not None and config.top_k < logits.size(-1):
            kth = torch.topk(logits, config.top_k, dim=-1).values[:, -1:]
            logits = logits.masked_fill(logits < kth, float("-inf"))
        if config.top_p is not None and config.top_p < 1:
            logits = _nucleus(logits, config.top_p)
        probs = logits.softmax(-1)
        return torch.multinomial(probs, 1, generator=generator).squeeze(1)

    @torch.inference_mode()
    def score(self, word: str) -> WordScore:
        """Log-probability of `word` as a whole name (its characters then the end token)."""
        ids = self._word_ids(word)
        idx = torch.tensor([ids], device=self.device)
        logits, _ = self.model(idx[:, :-1])
        logprob = float(F.log_softmax(logits[0], -1).gather(-1, idx[0, 1:, None]).sum())
        return WordScore(word, logprob, logprob / (len(word) + 1), self.source_of(word))

    def attention(self, word: str) -> AttentionMap:
        ids = self._word_ids(word)[:-1]  # BOS + characters: the positions that attend
        weights = self.model.attention(torch.tensor([ids], device=self.device))
        return AttentionMap(["<bos>", *word], weights[:, 0].cpu().numpy())

    def _word_ids(self, word: str) -> list[int]:
        if not word:
            raise ValueError("an empty word")
        if len(word) > self.max_chars:
            raise ValueError(f"{word!r} is longer than this model's {self.max_chars} characters")
        return [BOS, *self.vocab.encode(word), EOS]


def _nucleus(logits: Tensor, top_p: float) -> Tensor:
    """Keep the smallest set of most likely tokens whose probability reaches `top_p`."""
    sorted_logits, order = logits.sort(-1, descending=True)
    cumulative = sorted_logits.softmax(-1).cumsum(-1)
    # Drop a token when the ones before it already reach top_p (the first always stays).
    drop_sorted = (cumulative - sorted_logits.softmax(-1)) >= top_p
    drop = drop_sorted.scatter(-1, order, drop_sorted)
    return logits.masked_fill(drop, float("-inf"))
