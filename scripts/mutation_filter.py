"""Skip the mutants no test can kill: those inside type annotations, which
`from __future__ import annotations` never evaluates, and inside `if TYPE_CHECKING:` blocks.

    python scripts/mutation_filter.py SESSION.sqlite   (scripts/mutation.sh runs it)
"""

from __future__ import annotations

import ast
import sys
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


def main(session: str) -> int:
    skipped = 0
    with use_db(session) as db:
        for item in db.work_items:
            for mutation in item.mutations:
                start = tuple(mutation.start_pos)
                spans = unkillable_spans(Path(mutation.module_path))
                if any(low <= start < high for low, high in spans):
                    result = WorkResult(worker_outcome=WorkerOutcome.SKIPPED)
                    db.set_result(item.job_id, result)
                    skipped += 1
    print(f"skipped {skipped} mutants in annotations or TYPE_CHECKING blocks")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
