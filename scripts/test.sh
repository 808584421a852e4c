#!/usr/bin/env bash
# Install everything the tests need (Python packages and Debian's Chromium) and run every test:
# lint (ruff), engine unit tests, page tests (AppTest), a syntax check of the browser code (node) and
# real-browser journeys (Playwright + Chromium).
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -k explore`.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"

if [ ! -x /usr/bin/chromium ]; then
  echo "== installing Debian's Chromium for the browser tests"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

echo "== installing Python packages (the versions in constraints.txt)"
"$PY" -m pip install -q --disable-pip-version-check -r requirements-dev.txt -c constraints.txt

echo "== ruff check and ruff format --check"
"$PY" -m ruff check .
"$PY" -m ruff format --check .

export TF_CPP_MIN_LOG_LEVEL=2
echo "== running the tests"
set +e
"$PY" -m pytest -q -p no:cacheprovider --durations=15 "$@"
code=$?
set -e
if [ "$code" = 5 ]; then
  echo "pytest collected no tests" >&2
  exit 1
fi
exit "$code"
