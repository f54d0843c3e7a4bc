#!/usr/bin/env bash
# Sets up mailguard in ./.venv and serves the bundled demo mailbox over stdio (no account needed).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >&2
exec .venv/bin/mailguard-mcp demo "$@"
