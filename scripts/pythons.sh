#!/usr/bin/env bash
# The Pythons mailguard claims, each with its interpreter and its test virtualenv.
#   scripts/pythons.sh            prints "VERSION INTERPRETER VENV" per claimed version
# The claimed versions are pyproject.toml's "Programming Language :: Python :: 3.X" classifiers
# (a test keeps them equal to requires-python). MAILGUARD_PYTHONS="3.11 3.13" narrows the list
# for a quick local run. ./.venv belongs to the interpreter setup.sh makes it with (python3);
# every other version gets ./.venv-3.X. An interpreter is looked for as python3.X on PATH,
# then in pyenv's versions (this kind of machine ships 3.11, 3.12 and 3.13 there), and must
# have venv and ensurepip. A claimed version with no interpreter is an error: CI must test
# every version the package claims.
set -euo pipefail
cd "$(dirname "$0")/.."

claimed() {
  python3 - <<'PY'
import re, tomllib
with open("pyproject.toml", "rb") as f:
    project = tomllib.load(f)["project"]
pattern = re.compile(r"Programming Language :: Python :: (3\.\d+)$")
print(" ".join(m.group(1) for c in project.get("classifiers", []) if (m := pattern.match(c))))
PY
}

usable() {  # usable INTERPRETER VERSION
  [ -x "$1" ] && "$1" -c "import sys, venv, ensurepip
raise SystemExit(0 if '%d.%d' % sys.version_info[:2] == '$2' else 1)" >/dev/null 2>&1
}

find_python() {  # find_python VERSION -> path of an interpreter
  local version=$1 candidate root
  root=${PYENV_ROOT:-$HOME/.pyenv}
  for candidate in "$(command -v "python$version" 2>/dev/null || true)" \
      $(ls -d "$root"/versions/"$version".*/bin/"python$version" 2>/dev/null | sort -V -r) \
      "/usr/bin/python$version" "/usr/local/bin/python$version"; do
    if [ -n "$candidate" ] && usable "$candidate" "$version"; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

versions=${MAILGUARD_PYTHONS:-$(claimed)}
[ -n "$versions" ] || { echo "pythons.sh: no Python versions claimed in pyproject.toml" >&2; exit 1; }
default=$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
missing=0
for version in $versions; do
  if [ "$version" = "$default" ]; then
    echo "$version $(command -v python3) .venv"
  elif interpreter=$(find_python "$version"); then
    echo "$version $interpreter .venv-$version"
  else
    echo "pythons.sh: no usable python$version (with venv and ensurepip) on PATH or in pyenv" >&2
    missing=1
  fi
done
exit $missing
