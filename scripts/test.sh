#!/usr/bin/env bash
# Sets up (apt-get + pip into ./.venv) and runs the whole suite: lint, types, imports, tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
export PATH="$PWD/.venv/bin:$PATH"
echo "== ruff" && ruff check src tests $(ls -d bench 2>/dev/null)
echo "== mypy (strict, src/)" && mypy
echo "== import-linter" && lint-imports --no-cache
echo "== pytest" && python -m pytest "$@"
