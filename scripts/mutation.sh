#!/usr/bin/env bash
# Mutation testing of core/ (or the modules given, e.g. core/io.py core/data.py):
#   scripts/mutation.sh [MODULE...]
#   TESTS=tests/core/test_io.py scripts/mutation.sh core/io.py   # a faster, narrower run
# Needs the dev extra (`pip install -e '.[dev]'`). Each mutant runs tests/core; expect hours
# for the whole of core/ on 2 cores. The session is kept in .mutation/ so a run resumes.
set -euo pipefail
cd "$(dirname "$0")/.."
py=${PYTHON:-.venv/bin/python}
mkdir -p .mutation
modules=("$@")
[ ${#modules[@]} -gt 0 ] || modules=(core)
for module in "${modules[@]}"; do
  name=$(basename "$module" .py)
  config=.mutation/$name.toml
  session=.mutation/$name.sqlite
  sed -e "s|^module-path = .*|module-path = \"$module\"|" \
      -e "s|tests/core\"$|${TESTS:-tests/core}\"|" \
      -e "s|\"python -m pytest|\"$py -m pytest|" mutation.toml > "$config"
  # A baseline run first: if the tests fail unmutated, every mutant would look killed.
  "$py" -m cosmic_ray.cli baseline "$config"
  if [ ! -f "$session" ]; then
    "$py" -m cosmic_ray.cli init "$config" "$session"
    "$py" scripts/mutation_filter.py "$session"
  fi
  "$py" -m cosmic_ray.cli exec "$config" "$session"
  "$py" -m cosmic_ray.tools.survival_rate "$session" | sed "s|^|$module: survival rate % |"
done
