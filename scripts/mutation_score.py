"""The mutation score of every session in .mutation/: killed / (killed + survived), per module
and in all, skipped mutants left out. Survivors are listed with --survivors.

    python scripts/mutation_score.py [--survivors]   (scripts/mutation.sh runs it)
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from cosmic_ray.work_db import use_db
from cosmic_ray.work_item import TestOutcome, WorkerOutcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--survivors", action="store_true", help="print each surviving diff")
    args = parser.parse_args()
    rows, killed_all, run_all = {}, 0, 0
    for session in sorted(Path(".mutation").glob("*.sqlite")):
        killed = survived = 0
        with use_db(str(session)) as db:
            for _item, result in db.completed_work_items:
                if result.worker_outcome == WorkerOutcome.SKIPPED:
                    continue
                if result.test_outcome == TestOutcome.SURVIVED:
                    survived += 1
                    if args.survivors:
                        print(f"--- {session.stem}\n{result.diff}")
                else:  # killed, or timed out / crashed: the mutant was caught either way
                    killed += 1
        if killed + survived:
            rows[session.stem] = f"{killed}/{killed + survived}"
            killed_all, run_all = killed_all + killed, run_all + killed + survived
    score = round(100 * killed_all / run_all, 1) if run_all else None
    print(json.dumps({"modules": rows, "killed": killed_all, "run": run_all, "score_pct": score}))


if __name__ == "__main__":
    main()
