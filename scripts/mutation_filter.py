"""Skip the mutants no test can kill: those inside type annotations, which
`from __future__ import annotations` never evaluates, and inside `if TYPE_CHECKING:` blocks.
With --keep F, also skip all but a random share F of the rest: an estimate of the mutation
score in minutes instead of hours. With --rerun, forget the survivors' results instead, so that
the next `cosmic-ray exec` runs them again against new tests (the sample stays the same).

    python scripts/mutation_filter.py SESSION.sqlite [--keep 0.1 | --rerun]   (scripts/mutation.sh)
"""

from __future__ import annotations

import argparse
import ast
import random
import sqlite3
from functools import cache
from pathlib import Path

from cosmic_ray.work_db import use_db
from cosmic_ray.work_item import WorkerOutcome, WorkResult

Span = tuple[tuple[int, int], tuple[int, int]]  # (line, column) start and end, lines from 1


@cache
def unkillable_spans(module: Path) -> list[Span]:
    spans: list[Span] = []
    for node in ast.walk(ast.parse(module.read_text("utf-8"))):
        annotations: list[ast.expr | None] = []
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            args = node.args
            every = [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
            annotations += [a.annotation for a in every if a is not None]
            annotations.append(node.returns)
        elif isinstance(node, ast.AnnAssign):
            annotations.append(node.annotation)
        elif isinstance(node, ast.If) and ast.unparse(node.test).endswith("TYPE_CHECKING"):
            annotations.append(node)  # type: ignore[arg-type]
        spans += [_span(a) for a in annotations if a is not None]
    return spans


def _span(node: ast.AST) -> Span:
    return (node.lineno, node.col_offset), (node.end_lineno or 0, node.end_col_offset or 0)


def unkillable(item: object) -> bool:
    for mutation in item.mutations:  # type: ignore[attr-defined]
        spans = unkillable_spans(Path(mutation.module_path))
        if any(low <= tuple(mutation.start_pos) < high for low, high in spans):
            return True
    return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("session")
    parser.add_argument("--keep", type=float, default=1.0, help="share of mutants to run")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rerun", action="store_true", help="run the survivors again")
    args = parser.parse_args()
    if args.rerun:
        with sqlite3.connect(args.session) as db:  # cosmic-ray's work_db has no such call
            count = db.execute("DELETE FROM work_results WHERE test_outcome = 'SURVIVED'").rowcount
        print(f"{count} survivors to run again")
        return
    draw = random.Random(args.seed)
    unkillable_count = sampled_out = 0
    with use_db(args.session) as db:
        for item in db.work_items:
            if unkillable(item):
                unkillable_count += 1
            elif draw.random() >= args.keep:
                sampled_out += 1
            else:
                continue
            db.set_result(item.job_id, WorkResult(worker_outcome=WorkerOutcome.SKIPPED))
    print(f"skipped {unkillable_count} mutants in annotations or TYPE_CHECKING blocks"
          f" and {sampled_out} left out of the sample")


if __name__ == "__main__":
    main()
