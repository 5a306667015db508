"""The random generators a run saves and restores: the CPU one always, the CUDA one on CUDA.
No GPU here, so torch.cuda's generator calls are replaced by recorders."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from minigpt2.core.device import rng_state, set_rng_state
from minigpt2.core.train.build import build_trainer
from minigpt2.core.train.plan import TrainPlan


@pytest.fixture
def cuda_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, object]]:
    calls: list[tuple[str, object]] = []
    monkeypatch.setattr(torch.cuda, "get_rng_state",
                        lambda device: calls.append(("get", device)) or torch.tensor([7]))
    monkeypatch.setattr(torch.cuda, "set_rng_state",
                        lambda state, device: calls.append(("set", int(state[0]))))
    monkeypatch.setattr(torch.cuda, "manual_seed", lambda seed: calls.append(("seed", seed)))
    return calls


def test_a_cuda_run_saves_and_restores_the_cuda_generator(
    cuda_calls: list[tuple[str, object]],
) -> None:
    cuda = torch.device("cuda")
    state = rng_state(cuda)
    assert sorted(state) == ["cpu", "cuda"] and int(state["cuda"][0]) == 7
    assert torch.equal(state["cpu"], torch.get_rng_state())
    set_rng_state(state, cuda, seed=5)
    set_rng_state({"cpu": state["cpu"]}, cuda, seed=5)  # an older checkpoint: seed it instead
    assert cuda_calls == [("get", cuda), ("set", 7), ("seed", 5)]


@pytest.mark.parametrize("name", ["cpu", "mps", "meta"])
def test_other_devices_use_only_the_cpu_generator(
    cuda_calls: list[tuple[str, object]], name: str
) -> None:
    device = torch.device(name)
    torch.manual_seed(0)
    state = rng_state(device)
    drawn = torch.rand(3)
    set_rng_state(state, device, seed=5)
    assert list(state) == ["cpu"] and torch.equal(torch.rand(3), drawn)
    assert cuda_calls == []


def test_a_built_run_sets_its_threads_and_torch_s_own_kernels(tmp_path: Path) -> None:
    """build_trainer makes the process-wide CPU settings the run asks for: its thread count,
    and ATen's kernels over oneDNN's (faster and 7 MB lighter at these sizes)."""
    words = tmp_path / "words.txt"
    words.write_text("\n".join(f"{a}{b}{c}" for a in "abc" for b in "aeiou" for c in "mnr"))
    torch.backends.mkldnn.set_flags(True)
    build_trainer(TrainPlan(data=str(words), preset="seed", threads=1, epochs=1))
    assert torch.get_num_threads() == 1
    assert not torch.backends.mkldnn.enabled
