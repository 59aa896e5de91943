#!/usr/bin/env bash
# The console's browser tests: a real headless Chromium (Debian's `chromium` package) driven by
# Playwright for Python, against real `picket serve` processes.
#   bash tests/console/run.sh [pytest args…]
# Needs a built server (cargo build -p picket-cli, or PICKET_BIN=/path/to/picket) and Chromium:
#   sudo apt-get install chromium        (or set PICKET_CHROMIUM=/path/to/chromium)
# Screenshots of every view are written to docs/console/ (PICKET_SCREENSHOTS=0 to skip).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
VENV="$HERE/.venv"
REQS="$HERE/requirements.txt"
STAMP="$VENV/.requirements.sha256"
PYTHON="${PYTHON:-python3}"

bin="${PICKET_BIN:-target/debug/picket}"
case "$bin" in
  /*) ;;
  *) bin="$REPO/$bin" ;;
esac
if [ ! -x "$bin" ]; then
  echo "picket binary not found at $bin: run 'cargo build -p picket-cli' or set PICKET_BIN" >&2
  exit 2
fi
export PICKET_BIN="$bin"

chromium="${PICKET_CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}"
if [ -z "$chromium" ] || [ ! -x "$chromium" ]; then
  cat >&2 <<'MSG'
The console's browser tests need Chromium and it is not installed.
Install Debian's package:   sudo apt-get install -y chromium
(or point PICKET_CHROMIUM at a Chromium binary). The tests do not pass without it.
MSG
  exit 2
fi
export PICKET_CHROMIUM="$chromium"

if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
want="$(sha256sum "$REQS" | cut -d' ' -f1)"
have="$(cat "$STAMP" 2>/dev/null || true)"
if [ "$want" != "$have" ]; then
  echo "installing console test requirements into $VENV …" >&2
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQS"
  echo "$want" > "$STAMP"
fi

cd "$HERE"
exec "$VENV/bin/python" -m pytest -q "$@"
