"""Loading a checkpoint never runs code: files carrying a pickle payload are refused."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest
import torch
from minigpt2.core.checkpoint import CheckpointError, load_checkpoint


class Payload:
    """Unpickling this calls os.system, as a malicious checkpoint would."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return os.system, (f"touch {self.marker}",)


@pytest.mark.parametrize("writer", ["pickle", "torch.save"])
def test_a_pickle_payload_is_refused_without_running_it(tmp_path: Path, writer: str) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.safetensors"
    payload = {"model": Payload(marker), "weights": torch.zeros(3)}
    if writer == "pickle":
        path.write_bytes(pickle.dumps(payload))
    else:
        torch.save(payload, path)
    with pytest.raises(CheckpointError, match="not a readable safetensors file"):
        load_checkpoint(path)
    assert not marker.exists()
    # The file really is a live payload: unpickling it would have run the command.
    if writer == "pickle":
        pickle.loads(path.read_bytes())
        assert marker.exists()
