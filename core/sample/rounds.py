"""The round loop of both samplers (torch's, and numpy's while torch loads): rounds of
drawn names sized by how many the rounds before kept. Torch-free."""

from __future__ import annotations

import math
from collections.abc import Callable

from minigpt2.core.sample.request import Sample, SampleConfig, Source

Drawn = tuple[str, float, bool]  # a drawn name, its log-probability, and whether it was cut
# draw(batch, stop): up to `batch` names, fewer if stop() turns true midway
Draw = Callable[[int, Callable[[], bool]], list[Drawn]]
MAX_BATCH = 1024  # a round stays short (~25 ms on one CPU thread), so time limits hold
MAX_ROUNDS = 64  # with the time limit, the bound on a request that rarely finds its names


def draw_rounds(
    config: SampleConfig,
    draw: Draw,
    source_of: Callable[[str], Source],
    stop: Callable[[], bool],
    cancelled: Callable[[], bool],
) -> list[Sample]:
    """Up to `config.n` names that `config` keeps, drawn round after round, each round sized
    by the share of names the rounds before it kept; the one loop of both samplers (torch's,
    and numpy's while torch loads). Fewer names when `stop()` turns true."""
    results: list[Sample] = []
    seen: set[str] = set()
    kept_share = 1.0
    for round_number in range(MAX_ROUNDS):
        wanted = config.n - len(results)
        batch = min(MAX_BATCH, max(32, math.ceil(2 * wanted / kept_share)))
        # The first round always runs to its end: it is short (MAX_BATCH names at most), and
        # a cold first call on a busy machine must still give names, not "found 0".
        drawn = draw(batch, stop if round_number else cancelled)
        before = len(results)
        for name, logprob, cut in drawn:
            sample = Sample(name, logprob, source_of(name), cut)
            if (
                (config.include_cut or not cut)
                and config.accepts(name, sample.source)
                and not (config.unique and name in seen)
            ):
                seen.add(name)
                results.append(sample)
                if len(results) == config.n:
                    break
        kept = len(results) - before
        kept_share = max(kept / max(len(drawn), 1), 1 / MAX_BATCH)
        if len(results) == config.n or (kept == 0 and config.temperature == 0) or stop():
            break
    return results

