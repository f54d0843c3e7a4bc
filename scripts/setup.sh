#!/usr/bin/env bash
# Installs what mailguard needs on a Debian machine into ./.venv (idempotent).
#   scripts/setup.sh          runtime only
#   scripts/setup.sh --test   plus Dovecot, keyring backends and the test/lint tools
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
fi
if [ ${#pkgs[@]} -gt 0 ]; then
  echo "setup: apt-get install ${pkgs[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${pkgs[@]}" >/dev/null
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null 2>&1 || true
if [ "$want_test" = 1 ]; then
  .venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'
else
  .venv/bin/python -m pip install -q --disable-pip-version-check -e .
fi
