# ruff: noqa: E501  (a table of code patches: each line is one mutant)
"""Issue 12's listed mistakes, each applied in turn to this checkout, with the tests that
must catch it; prints whether they did. Restores every file. Run from the repository root
with the venv in .venv; a few minutes (`python scripts/listed_mutants.py`). The patches name
code as it is written: a change there makes a row report "applied": false.
"""

import json
import subprocess
from pathlib import Path

T = "tests/core"
U = "tests/tui"
MUTANTS = [
    ("doubled eval loss", "core/train/evaluate.py", "return total / max(count, 1)", "return 2 * total / max(count, 1)", [f"{T}/test_train.py", f"{T}/test_cli.py"]),
    ("resume() does nothing", "core/train/trainer.py", "    def resume(self) -> None:\n        self._unpaused.set()", "    def resume(self) -> None:\n        pass", [f"{T}/test_train.py"]),
    ("no 1/sqrt(d) in attention map", "core/model.py", "(q @ k.transpose(-2, -1)) / math.sqrt(q.size(-1))", "(q @ k.transpose(-2, -1))", [f"{T}/test_model.py"]),
    ("non-atomic checkpoint write", "core/checkpoint.py", "atomic_write_bytes(path, save_safetensors(tensors, metadata))", "Path(path).write_bytes(save_safetensors(tensors, metadata))", [f"{T}/test_io.py", f"{T}/test_checkpoint.py"]),
    ("non-atomic favourites write", "tui/stores/favourites.py", "atomic_write_text(self.path, self.to_json())", "self.path.write_text(self.to_json())", [f"{U}/test_favourites_store.py", f"{U}/test_persistence.py"]),
    ("CSV columns in the wrong order", "tui/stores/favourites.py", "writer.writerow([item.name, item.added_at, item.prompt, item.describe_settings()])", "writer.writerow([item.added_at, item.name, item.prompt, item.describe_settings()])", [f"{U}/test_favourites_store.py"]),
    ("top-p ignored", "core/sample/sampler.py", "hooks.append(lambda _, logits: nucleus(logits, config.top_p))", "pass", [f"{T}/test_sample.py", f"{T}/test_constraints.py"]),
    ("max_len ignored", "core/sample/sampler.py", "limit = min(config.max_len or self.max_chars, self.max_chars)", "limit = self.max_chars", [f"{T}/test_sample.py", f"{T}/test_constraints.py"]),
    ("app's continue ignored", "tui/engine/engine.py", "current = self._current_checkpoint() if continue_current else None", "current = None", [f"{U}/test_engine.py", f"{U}/test_train_flow.py"]),
    ("CLI --out check deleted", "core/cli/main.py", '    """Fail before training, not after, if the checkpoint cannot be written."""\n', '    """Fail before training, not after, if the checkpoint cannot be written."""\n    return\n', [f"{T}/test_cli.py"]),
    (".safetensors suffix check deleted", "tui/engine/engine.py", 'if path.suffix != ".safetensors":', "if False:", [f"{U}/test_engine.py"]),
    ("Ctrl-C handler deleted", "core/cli/main.py", "previous = signal.signal(signal.SIGINT, lambda *_: trainer.stop())", "previous = signal.getsignal(signal.SIGINT)", [f"{T}/test_cli.py"]),
    ("input debounce 0", "tui/widgets/explore/pane.py", "DEBOUNCE_S = 0.1", "DEBOUNCE_S = 0.0", [f"{U}/test_explore.py"]),
]
results = []
for name, path, old, new, tests in MUTANTS:
    file = Path(path)
    text = file.read_text()
    if old not in text:
        results.append({"mutant": name, "applied": False})
        continue
    file.write_text(text.replace(old, new, 1))
    try:
        proc = subprocess.run([".venv/bin/python", "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests], capture_output=True, text=True)
    finally:
        file.write_text(text)
    failed = [line for line in proc.stdout.splitlines() if line.startswith("FAILED")][:1]
    results.append({"mutant": name, "caught": proc.returncode != 0, "by": failed[0][7:90] if failed else proc.stdout.splitlines()[-1][:80]})
    print(json.dumps(results[-1]), flush=True)
print(json.dumps({"caught": sum(r.get("caught", False) for r in results), "of": len(results)}))
