#!/usr/bin/env bash
# Writes constraints.txt, the lock of the development environment: the exact version of every
# package installed in the test virtualenvs (./.venv and ./.venv-3.X, scripts/pythons.sh), as
# they were when the suite last passed. setup.sh installs with `-c constraints.txt`, so every
# checkout tests against these versions; tests/unit/test_lock.py keeps the file consistent with
# pyproject.toml and with the environment the tests run in.
#   scripts/lock.sh             freeze the virtualenvs as they are
#   scripts/lock.sh --upgrade   first upgrade them to the newest versions pyproject.toml allows
#                               (then run scripts/test.sh before committing the new lock)
# Packages needed on one Python only (backports) are in the union; a package pinned to
# different versions in two virtualenvs is an error.
set -euo pipefail
cd "$(dirname "$0")/.."
pythons=$(bash scripts/pythons.sh)
frozen=$(mktemp)
trap 'rm -f "$frozen"' EXIT
while read -r _version _interpreter venv; do
  [ -x "$venv/bin/python" ] || { echo "lock: $venv missing; run scripts/setup.sh --test" >&2; exit 1; }
  if [ "${1:-}" = "--upgrade" ]; then
    "$venv/bin/python" -m pip install -q --disable-pip-version-check --upgrade \
      --upgrade-strategy eager -e '.[test]'
  fi
  "$venv/bin/python" -m pip freeze --exclude-editable --disable-pip-version-check \
    | grep -v -i -E '^(mailguard|pip|setuptools|wheel)==' >> "$frozen"
done <<< "$pythons"
python3 - "$frozen" <<'PY'
import re
import sys

pins: dict[str, tuple[str, str]] = {}
for line in open(sys.argv[1]):
    name, _, version = line.strip().partition("==")
    if not version:
        sys.exit(f"lock: not a pinned line in pip freeze: {line.strip()!r}")
    key = re.sub(r"[-_.]+", "-", name).lower()
    if key in pins and pins[key][1] != version:
        sys.exit(f"lock: {name} is {pins[key][1]} in one virtualenv and {version} in another")
    pins[key] = (name, version)
with open("constraints.txt", "w") as out:
    out.write(
        "# The lock of the development environment: every package of the test virtualenvs at\n"
        "# the version the suite passed with. Written by scripts/lock.sh; used by\n"
        "# scripts/setup.sh (pip install -c constraints.txt). Do not edit by hand.\n"
    )
    out.writelines(f"{name}=={version}\n" for _, (name, version) in sorted(pins.items()))
print(f"lock: constraints.txt pins {len(pins)} packages")
PY
