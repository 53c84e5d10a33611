#!/usr/bin/env bash
# Installs everything the tests need (Python packages, Debian's Chromium) and runs the suite.
# This is the README's test command; .ci/run calls it too. Arguments go to both pytest runs.
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
# Two runs. First everything but the browser tests, in two processes (whole files to each). Then the
# browser tests, one at a time: they stream a camera in real time, and the page's camera sends 10
# frames/s; beside another browser test on two cores a camera test's streams got 2-5 frames/s, at
# which live counts are a matter of luck (run side by side, they were no faster in all).
# Exit code 5 is "no test selected" (the arguments chose only one kind), which is no failure.
status=0
run() { python3 -m pytest -q "$@" || { code=$?; [ "$code" -eq 5 ] || status=$code; }; }
run -m "not browser" -n 2 --dist loadfile "$@"
run -m browser -p no:xdist "$@"
exit $status
