#!/usr/bin/env bash
# Install everything the test suite needs, then run all of it.
# Usage: bash scripts/test.sh [pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian's Chromium for the browser tests (Playwright drives it; never `playwright install`).
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

# Java for the Nu HTML checker, Node.js/npm for axe-core (both usually present).
if ! command -v java >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq default-jre-headless nodejs npm >/dev/null
fi

# axe-core for the theme's accessibility tests (outside the repository).
if [ ! -f "$HOME/.cache/digest-tests/node_modules/axe-core/axe.min.js" ]; then
  npm install --no-save --no-audit --no-fund --prefix "$HOME/.cache/digest-tests" axe-core@4.14.1 >/dev/null
fi

python3 -m pip install -q --disable-pip-version-check -e '.[test]'
exec python3 -m pytest -q "$@"
