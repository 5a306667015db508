#!/usr/bin/env bash
# Mutation testing of core/ (or the modules given, e.g. core/files.py core/data/):
#   scripts/mutation.sh [MODULE...]
#   TESTS=tests/core/test_io.py scripts/mutation.sh core/files.py   # a faster, narrower run
#   KEEP=0.05 scripts/mutation.sh                                  # a random 5%: an estimate
#   SEED=1 KEEP=0.02 scripts/mutation.sh                           # another 2%: a fresh sample
#   RERUN=1 scripts/mutation.sh core/sample/sampler.py    # after new tests: run the survivors again
# Needs the dev extra (`pip install -e '.[dev]'`). Each mutant runs the module's own tests
# (the table below; tests/core for the rest): about 4,000 mutants in core/, hours on 2 cores.
# The session is kept in .mutation/ so a run resumes.
set -euo pipefail
cd "$(dirname "$0")/.."
py=${PYTHON:-.venv/bin/python}
mkdir -p .mutation
modules=("$@")
[ ${#modules[@]} -gt 0 ] || mapfile -t modules < <(find core -name "*.py" | sort)

own_tests() {  # the tests that exercise a module; a narrower run kills mutants sooner
  local t=tests/core
  case ${1#core/} in
    train/schedule.py|train/best.py|train/optim.py) echo "$t/test_train.py" ;;
    device.py) echo "$t/test_device.py $t/test_train.py" ;;
    config.py) echo "$t/test_config.py $t/test_train.py $t/test_model.py $t/test_cli.py" ;;
    train/plan.py|train/build.py|train/evaluate.py) echo "$t/test_train.py $t/test_model.py $t/test_cli.py" ;;
    data/*) echo "$t/test_data.py $t/test_categories.py" ;;
    checkpoint.py|files.py) echo "$t/test_checkpoint.py $t/test_checkpoint_safety.py $t/test_io.py $t/test_train.py" ;;
    sample/constraints.py|sample/beam.py|sample/request.py|sample/rounds.py|sample/hooks.py) echo "$t/test_constraints.py $t/test_sample.py $t/test_most_likely.py" ;;
    sample/sampler.py) echo "$t/test_constraints.py $t/test_sample.py $t/test_categories.py" ;;
    sample/guidance.py) echo "$t/test_categories.py $t/test_mix.py" ;;
    sample/logprobs.py) echo "$t/test_logprobs.py $t/test_categories.py $t/test_repair.py" ;;
    sample/repair.py|cli/repair.py) echo "$t/test_categories.py $t/test_repair.py" ;;
    cli/*) echo "$t/test_cli.py $t/test_cli_speaks.py" ;;
    train/trainer.py) echo "$t/test_train.py $t/test_checkpoint.py $t/test_io.py" ;;
    model.py) echo "$t/test_model.py" ;;
    *) echo "$t" ;;
  esac
}

for module in "${modules[@]}"; do
  [ "$(basename "$module")" != __init__.py ] && [ "$(basename "$module")" != graphs.py ] \
    && [ "$(basename "$module")" != __main__.py ] || continue
  name=$(echo "${module%.py}" | tr / -)  # core-sample-repair: two repair.py, two sessions
  config=.mutation/$name.toml
  session=.mutation/$name.sqlite
  sed -e "s|^module-path = .*|module-path = \"$module\"|" \
      -e "s|tests/core\"$|${TESTS:-$(own_tests "$module")}\"|" \
      -e "s|\"python -m pytest|\"$py -m pytest|" mutation.toml > "$config"
  # A baseline run first: if the tests fail unmutated, every mutant would look killed.
  "$py" -m cosmic_ray.cli baseline "$config"
  if [ ! -f "$session" ]; then
    "$py" -m cosmic_ray.cli init "$config" "$session"
    "$py" scripts/mutation_filter.py "$session" --keep "${KEEP:-1}" --seed "${SEED:-0}"
  elif [ -n "${RERUN:-}" ]; then
    "$py" scripts/mutation_filter.py "$session" --rerun
  fi
  "$py" -m cosmic_ray.cli exec "$config" "$session"
  "$py" -m cosmic_ray.tools.survival_rate "$session" | sed "s|^|$module: survival rate % |"
done
"$py" scripts/mutation_score.py
