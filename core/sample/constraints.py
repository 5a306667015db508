"""Steering names toward their constraints through the model's own choices: torch-free.

A name is written one character at a time. `Steering` follows each partial name with a small
automaton (how far it has got toward `contains`, and how much of its tail is a start of
`ends_with`) and, from that state and the length so far, says which next tokens can still
lead to a name that meets every constraint within the length limit:
- the end token only once the suffix is in place, `contains` met and `min_len` reached;
- a character only if some completion from there fits the limit (so a name that must end in
  "ox" is steered into it before it runs out of room, instead of being thrown away).
The blocklist steers too: `BlockedNames` follows each partial name down a trie of the blocked
names, and the end token is closed wherever it would complete one (and a character wherever
every way on from it ends on a blocked name), so a blocked name is never written, rather
than written and thrown away.
Every returned name therefore meets its constraints by construction; the sampler's
probabilities are the model's, renormalised over the allowed tokens.
"""

from __future__ import annotations

from collections.abc import Iterable

from minigpt2.core.sample.request import SampleConfig, options

State = tuple[int, int]  # (characters of `contains` matched, tail overlap with `ends_with`)
OFF_LIST = -1  # the trie node of a name that no blocked name starts with


class ImpossibleConstraints(ValueError):
    """No name can meet the constraints: refused before sampling."""


def _overlap(pattern: str, matched: int, ch: str) -> int:
    """How much of `pattern` the text ends with, after a text ending with
    pattern[:matched] gets `ch` (the longest border, as in KMP)."""
    text = pattern[:matched] + ch
    for k in range(min(len(pattern), len(text)), 0, -1):
        if text.endswith(pattern[:k]):
            return k
    return 0


class Steering:
    """Which tokens keep a partial name on a path to meeting `config`, within `limit`."""

    def __init__(self, config: SampleConfig, alphabet: Iterable[str], limit: int) -> None:
        self.config = config
        self.limit = limit  # the longest name allowed, in characters
        self.chars = [c for c in alphabet if c not in config.exclude_chars]
        # Characters in neither pattern all act alike: one of them stands for the rest.
        in_patterns = set(config.contains) | set(config.ends_with)
        others = [c for c in self.chars if c not in in_patterns]
        self._classes = [[c] for c in self.chars if c in in_patterns] + ([others] if others else [])
        self._feasible: dict[tuple[State, int], bool] = {}
        self._allowed: dict[tuple[State, int], tuple[bool, tuple[str, ...]]] = {}
        self.trivial = not in_patterns  # one state for every name: masks depend on length only
        self.blocked = BlockedNames(self, config.exclude)

    def advance(self, state: State, ch: str) -> State:
        contains, suffix = self.config.contains, self.config.ends_with
        met = state[0] if state[0] == len(contains) else _overlap(contains, state[0], ch)
        return met, _overlap(suffix, state[1], ch)

    def start(self) -> State:
        state: State = (0, 0)
        for ch in self.config.prompt:
            state = self.advance(state, ch)
        return state

    def can_end(self, state: State, length: int) -> bool:
        return (
            length >= self.config.min_chars
            and state[0] == len(self.config.contains)
            and state[1] == len(self.config.ends_with)
        )

    def next_needed(self, state: State) -> str | None:
        """The character that brings the name closest to its required text."""
        contains, suffix = self.config.contains, self.config.ends_with
        if state[0] < len(contains):
            return contains[state[0]]
        return suffix[state[1]] if state[1] < len(suffix) else None

    def feasible(self, state: State, length: int) -> bool:
        """Whether some completion of a name in `state` meets every constraint."""
        key = (state, length)
        if key not in self._feasible:
            self._feasible[key] = self.can_end(state, length) or (
                length < self.limit
                and any(self.feasible(self.advance(state, group[0]), length + 1)
                        for group in self._classes)
            )
        return self._feasible[key]

    def allowed(self, state: State, length: int) -> tuple[bool, tuple[str, ...]]:
        """(may the name end here, the characters that may come next)."""
        key = (state, length)
        if key not in self._allowed:
            chars: list[str] = []
            if length < self.limit:
                for group in self._classes:
                    if self.feasible(self.advance(state, group[0]), length + 1):
                        chars.extend(group)
            self._allowed[key] = (self.can_end(state, length), tuple(chars))
        return self._allowed[key]

    def check(self) -> None:
        """Raise ImpossibleConstraints, with the reason, if no name can be written."""
        config, flags = self.config, {name: option.flag for name, option in options().items()}
        if config.min_chars > self.limit:
            raise ImpossibleConstraints(
                f"{flags['min_len']} {config.min_chars} is above this model's limit of {self.limit}"
            )
        for name in ("ends_with", "contains"):
            if len(text := getattr(config, name)) > self.limit:
                raise ImpossibleConstraints(
                    f"{flags[name]} {text!r} is longer than the {self.limit}-character limit"
                )
        if not self.feasible(self.start(), len(config.prompt)) or self.blocked.dead_end(
            self.blocked.start(), self.start(), len(config.prompt)
        ):
            raise ImpossibleConstraints(
                f"no name of at most {self.limit} characters can meet "
                + config.describe_constraints()
            )


class BlockedNames:
    """A trie of the blocklist: which of a partial name's next tokens would write a blocked
    name, or lead only to blocked names. Nodes are ints; `OFF_LIST` once no blocked name
    starts like the partial name (then nothing is closed)."""

    def __init__(self, steering: Steering, names: Iterable[str]) -> None:
        self.steering = steering
        self.children: list[dict[str, int]] = [{}]
        self.ends: list[bool] = [False]  # a blocked name ends at this node
        for name in names:
            node = 0
            for ch in name:
                node = self.children[node].setdefault(ch, len(self.children))
                if node == len(self.ends):
                    self.children.append({})
                    self.ends.append(False)
            self.ends[node] = True
        self.empty = not any(self.ends)
        self._dead: dict[tuple[int, State, int], bool] = {}

    def advance(self, node: int, ch: str) -> int:
        return OFF_LIST if node == OFF_LIST else self.children[node].get(ch, OFF_LIST)

    def start(self) -> int:
        node = 0
        for ch in self.steering.config.prompt:
            node = self.advance(node, ch)
        return node

    def allowed(self, node: int, state: State, length: int) -> tuple[bool, tuple[str, ...]]:
        """`Steering.allowed`, less the end where it writes a blocked name and the
        characters from which every way on ends on one."""
        may_end, chars = self.steering.allowed(state, length)
        if node == OFF_LIST:
            return may_end, chars
        alive = tuple(
            ch for ch in chars
            if not self.dead_end(self.advance(node, ch), self.steering.advance(state, ch),
                                 length + 1)
        )
        return may_end and not self.ends[node], alive

    def dead_end(self, node: int, state: State, length: int) -> bool:
        """Whether every name going on from here (trie `node`, steering `state`) is
        blocked. Off the list nothing is: the first character off the trie settles it."""
        if node == OFF_LIST:
            return False
        key = (node, state, length)
        if key not in self._dead:
            may_end, alive = self.allowed(node, state, length)
            self._dead[key] = not may_end and not alive
        return self._dead[key]
