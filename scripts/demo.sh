#!/usr/bin/env bash
# Sets up mailguard in ./.venv and serves the bundled demo mailbox over stdio (no account needed).
# setup.sh (pip) runs only when ./.venv is missing or pyproject.toml, constraints.txt or setup.sh changed since it last ran:
# the install is editable, so source changes need no reinstall.
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=.venv/.mailguard-setup-stamp
want=$(sha256sum pyproject.toml constraints.txt scripts/setup.sh | sha256sum | cut -d' ' -f1)
if [ ! -x .venv/bin/mailguard-mcp ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  bash scripts/setup.sh >&2
  echo "$want" > "$stamp"
fi
exec .venv/bin/mailguard-mcp demo "$@"
