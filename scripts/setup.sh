#!/usr/bin/env bash
# Installs what mailguard needs on a Debian machine into ./.venv (idempotent).
#   scripts/setup.sh          runtime only
#   scripts/setup.sh --test   plus Dovecot, keyring backends and the test/lint tools, and a
#                             ./.venv-3.X for each other claimed Python (scripts/pythons.sh)
# Every pip install is constrained by constraints.txt: the exact versions the suite was last run
# with (the lock of the development environment; scripts/lock.sh renews it).
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
want_test=0; [ "${1:-}" = "--test" ] && want_test=1

pkgs=()
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || pkgs+=(python3-venv python3-pip)
if [ "$want_test" = 1 ]; then
  command -v dovecot >/dev/null 2>&1 || pkgs+=(dovecot-imapd)
  command -v openssl >/dev/null 2>&1 || pkgs+=(openssl)
  command -v gnome-keyring-daemon >/dev/null 2>&1 || pkgs+=(gnome-keyring libsecret-tools dbus-x11)
  command -v chromium >/dev/null 2>&1 || pkgs+=(chromium)  # the hidden-text oracle test
  command -v redis-server >/dev/null 2>&1 || pkgs+=(redis-server)
fi
if [ ${#pkgs[@]} -gt 0 ]; then
  echo "setup: apt-get install ${pkgs[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${pkgs[@]}" >/dev/null
fi

# With --test, pip's work is done by uv's pip (the uv of the [test] extra, pinned in
# constraints.txt and bootstrapped into ./.venv by pip): same index (PyPI), same lock, same
# packages, but a fresh clone's three virtualenvs take seconds instead of minutes (measured:
# one cold install of .[test], 127 packages, 140 s with pip, 10 s with uv). Where uv cannot be
# installed, pip does it all.
uv=""
install() {  # install VENV INTERPRETER
  local project=.; [ "$want_test" = 1 ] && project='.[test]'
  [ -x "$1/bin/python" ] || "$2" -m venv "$1"
  if [ -n "$uv" ] && "$uv" pip install -q --python "$1/bin/python" --upgrade pip \
      && "$uv" pip install -q --python "$1/bin/python" -c constraints.txt -e "$project"; then
    return 0
  fi
  [ -z "$uv" ] || echo "setup: uv failed on $1; pip installs it instead" >&2
  "$1/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null 2>&1 || true
  "$1/bin/python" -m pip install -q --disable-pip-version-check -c constraints.txt -e "$project"
}

if [ "$want_test" = 1 ]; then
  [ -x .venv/bin/python ] || python3 -m venv .venv
  if .venv/bin/python -m pip install -q --disable-pip-version-check -c constraints.txt uv; then
    uv=.venv/bin/uv
  else
    echo "setup: uv could not be installed; pip installs everything (slower)" >&2
  fi
fi
install .venv python3
if [ "$want_test" = 1 ]; then
  # The tests run on every Python the package claims: one more venv per version (.venv-3.X).
  pythons=$(bash scripts/pythons.sh)
  while read -r _version interpreter venv; do
    [ "$venv" = .venv ] || install "$venv" "$interpreter"
  done <<< "$pythons"
fi
