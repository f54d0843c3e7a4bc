#!/usr/bin/env bash
# Sets up (apt-get + pip into ./.venv and ./.venv-3.X) and runs the whole suite: lint, types and
# imports once, then pytest on every Python the package claims, one after another
# (scripts/pythons.sh; MAILGUARD_PYTHONS="3.11" narrows it for a quick local run).
# Arguments go to each pytest run. The last line totals the runs: "total: N passed, N failed".
# The Chromium visibility oracle (tests/property/test_hidden_oracle.py, minutes of browser work)
# the packaging tests (tests/packaging: build, twine, a fresh venv, pipx and uvx; about three
# minutes) and the Inspector web UI test (tests/mcp/test_inspector_ui.py: Node 22, the
# Inspector and Chromium; about 15 s warm, a minute more on a cold npm cache) run on the first
# Python only: the oracle judges the CSS policy and the wheel is pure
# Python, none changed by the interpreter version; every other test runs on every version.
# Each pytest run uses every core (pytest-xdist, -n MAILGUARD_WORKERS, default nproc;
# MAILGUARD_WORKERS=1 runs in one process) with --dist loadfile: a test module runs whole, in
# order, on one worker, so a module-scoped server or browser starts once and the oracle's
# tests, which read the tally of the module's first test, see it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
pythons=$(bash scripts/pythons.sh)
export PATH="$PWD/.venv/bin:$PATH"
echo "== ruff" && ruff check src tests $(ls -d bench 2>/dev/null)
echo "== mypy (strict, src/)" && mypy
echo "== import-linter" && lint-imports --no-cache
summary=("setup, ruff, mypy, import-linter: $SECONDS s")
log=$(mktemp)
trap 'rm -f "$log"' EXIT
workers=${MAILGUARD_WORKERS:-$(nproc 2>/dev/null || echo 1)}
parallel=(); [ "$workers" -gt 1 ] && parallel=(-n "$workers" --dist loadfile)
status=0 passed=0 failed=0 skipped=0 once=()
count() { grep -o "[0-9]\+ $1" <<< "$2" | grep -o "[0-9]\+" || echo 0; }
while read -r version _interpreter venv; do
  echo "== pytest on Python $version ($("$venv/bin/python" -VV | head -1))"
  start=$SECONDS
  set +e
  "$venv/bin/python" -m pytest "${parallel[@]}" "${once[@]}" "$@" < /dev/null 2>&1 | tee "$log"
  code=${PIPESTATUS[0]}
  set -e
  last=$(tail -n 1 "$log")
  summary+=("Python $version: exit $code in $((SECONDS - start)) s: $last")
  once=(--deselect tests/property/test_hidden_oracle.py --deselect tests/packaging
        --deselect tests/mcp/test_inspector_ui.py)
  [ "$code" = 0 ] || status=$code
  passed=$((passed + $(count passed "$last")))
  failed=$((failed + $(count failed "$last") + $(count error "$last")))
  skipped=$((skipped + $(count skipped "$last")))
done <<< "$pythons"
summary+=("all: $SECONDS s")
echo "== summary"
printf '%s\n' "${summary[@]}"
echo "total: $passed passed, $failed failed, $skipped skipped"
exit $status
