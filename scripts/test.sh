#!/usr/bin/env bash
# Installs everything the tests need (Python packages, Debian's Chromium) and runs the suite.
# This is the README's test command; .ci/run calls it too.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x /usr/bin/chromium ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
python3 -m pip install -q --disable-pip-version-check -r requirements-dev.txt -e .
python3 -m ruff check .           # lint
python3 -m ruff format --check .  # format
python3 -m mypy                   # types (pyproject.toml says what)
# Two processes, each taking whole test files (their servers and browsers are per file): about
# 4.9 min on a 2-core machine against 7.5 min in one process.
python3 -m pytest -q -n 2 --dist loadfile "$@"
