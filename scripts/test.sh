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
# One process: the browser tests stream a camera in real time, and a second test process on two
# cores starved them (pytest-xdist -n 2 took 294 s against 450 s, but a two-session webcam test then
# got 2 frames/s a session and never counted).
python3 -m pytest -q "$@"
