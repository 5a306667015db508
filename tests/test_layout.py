"""The package layout stays as docs/architecture.md describes it: core/ grouped by
responsibility, no import cycle (imports inside functions count), empty package
`__init__`s, every package installed, and the torch-free modules torch-free."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = {"minigpt2.core": ROOT / "core", "minigpt2.tui": ROOT / "tui"}
CORE_TOP_LEVEL_LIMIT = 8

# The modules the app and the CLI import before torch is loaded (the first frame must not
# wait for torch, and a typo on the command line fails at once).
TORCH_FREE = [
    "minigpt2.core.config",
    "minigpt2.core.checkpoint_header",
    "minigpt2.core.files",
    "minigpt2.core.data.vocab",
    "minigpt2.core.data.words",
    "minigpt2.core.data.dataset",
    "minigpt2.core.sample.request",
    "minigpt2.core.sample.rounds",
    "minigpt2.core.sample.constraints",
    "minigpt2.core.sample.numpy_model",
    "minigpt2.core.sample.numpy_sampler",
    "minigpt2.core.sample.repair",
    "minigpt2.core.train.plan",
    "minigpt2.core.train.build",
    "minigpt2.core.cli.main",
    "minigpt2.tui.app",
]


def modules() -> dict[str, Path]:
    """Every module of the two packages, by dotted name."""
    found = {}
    for package, folder in FOLDERS.items():
        for path in folder.rglob("*.py"):
            parts = path.relative_to(folder).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join((package, *parts))] = path
    return found


def imported(name: str, path: Path, known: set[str]) -> set[str]:
    """The project modules `path` imports at run time, in functions too; imports under
    `if TYPE_CHECKING:` are left out (they never run)."""
    tree = ast.parse(path.read_text("utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped |= {id(n) for child in node.body for n in ast.walk(child)}
    targets: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            targets |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            targets.add(base)
            targets |= {f"{base}.{alias.name}" for alias in node.names}
    return {t for t in targets if t in known and t != name}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle_at_run_time() -> None:
    found = modules()
    graph = {name: imported(name, path, set(found)) for name, path in found.items()}
    # A package imports nothing (its __init__ is empty), so importing a.b.c does not pull
    # in a or a.b's siblings: edges to a package are left out.
    packages = {n for n, p in found.items() if p.name == "__init__.py"}
    graph = {n: targets - packages for n, targets in graph.items()}
    assert cycles(graph) == []


def test_the_cycle_check_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_core_keeps_at_most_eight_modules_at_its_top_level() -> None:
    top = [p.name for p in (ROOT / "core").glob("*.py") if p.name != "__init__.py"]
    assert len(top) <= CORE_TOP_LEVEL_LIMIT, sorted(top)


def test_every_package_init_is_empty() -> None:
    """An `__init__` that imports would make `import minigpt2.core.sample.request` load the
    whole sampler, torch included."""
    inits = [p for folder in FOLDERS.values() for p in folder.rglob("__init__.py")]
    assert inits and all(p.read_text("utf-8").strip() == "" for p in inits)


def test_pyproject_lists_every_package() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    listed = set(config["tool"]["setuptools"]["packages"])
    packages = {n for n, p in modules().items() if p.name == "__init__.py"}
    assert packages <= listed


@pytest.mark.parametrize("module", TORCH_FREE)
def test_torch_free_modules_do_not_import_torch(module: str) -> None:
    code = f"import sys, {module}; sys.exit(2 if 'torch' in sys.modules else 0)"
    assert subprocess.run([sys.executable, "-c", code], timeout=120).returncode == 0


# --- where a change goes (docs/architecture.md counts the places; these tests keep them) ---

# Each model option in at most 4 source files: config.py, model.py, numpy_model.py and the
# checkpoint header's bounds. The shape fields (vocab_size, block_size, n_layer, n_head,
# d_model) come from the data and are read wherever tensors are shaped: not options.
MODEL_OPTIONS = ("positions", "activation", "mlp_ratio", "final_norm", "dropout", "init",
                 "bias", "kind_gain")
MODEL_OPTION_FILES = 4
MODEL_OPTION_BEYOND = {
    "dropout": {"core/train/prior.py"},  # the prior's shape ignores a training-only option
    "bias": {"core/sample/like.py", "core/sample/sampler.py"},  # a logit bias: another word
    "kind_gain": {"core/train/prior.py", "core/train/trainer.py"},  # set from the data's kinds
}


def files_naming(name: str) -> set[str]:
    """Source files under core/ and tui/ naming `name` as an attribute, keyword or string."""
    found = set()
    for path in [*(ROOT / "core").rglob("*.py"), *(ROOT / "tui").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if ((isinstance(node, ast.Attribute) and node.attr == name)
                    or (isinstance(node, ast.keyword) and node.arg == name)
                    or (isinstance(node, ast.Constant) and node.value == name)):
                found.add(path.relative_to(ROOT).as_posix())
                break
    return found


@pytest.mark.parametrize("option", MODEL_OPTIONS)
def test_a_model_option_lives_in_at_most_four_files(option: str) -> None:
    beyond = MODEL_OPTION_BEYOND.get(option, set())
    places = files_naming(option)
    assert beyond <= places, "a stale exception"
    assert len(places - beyond) <= MODEL_OPTION_FILES, sorted(places)


@pytest.mark.parametrize("pane", ["ExplorePane", "TrainPane", "FavouritesPane"])
def test_a_pane_is_named_only_by_its_own_module_and_the_app(pane: str) -> None:
    naming = set()
    for path in (ROOT / "tui").rglob("*.py"):
        tree = ast.parse(path.read_text("utf-8"))
        named = ((isinstance(node, ast.Name) and node.id == pane)
                 or (isinstance(node, ast.ClassDef) and node.name == pane)
                 for node in ast.walk(tree))
        if any(named):
            naming.add(path.relative_to(ROOT).as_posix())
    assert naming - {"tui/app.py"} and len(naming - {"tui/app.py"}) == 1, sorted(naming)
    assert all(name.startswith("tui/widgets/") for name in naming - {"tui/app.py"})


def test_every_cli_command_lives_in_core_cli() -> None:
    from minigpt2.core.cli import main

    # Where the package is installed (site-packages in CI), not the repository's folder.
    cli_folder = Path(main.__file__).resolve().parent
    homes = {Path(command.__code__.co_filename).resolve().parent
             for command in main.COMMANDS.values()}
    assert homes == {cli_folder} and cli_folder.name == "cli"
