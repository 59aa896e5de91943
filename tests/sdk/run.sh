#!/usr/bin/env bash
# Runs the Microsoft Graph SDK compatibility suite (msgraph-beta-sdk / msgraph-sdk against Picket).
#   bash tests/sdk/run.sh [pytest args…]
# Needs a built server: cargo build -p picket-cli (or PICKET_BIN=/path/to/picket).
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

if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
want="$(sha256sum "$REQS" | cut -d' ' -f1)"
have="$(cat "$STAMP" 2>/dev/null || true)"
if [ "$want" != "$have" ]; then
  echo "installing SDK test requirements into $VENV …" >&2
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQS"
  echo "$want" > "$STAMP"
fi

cd "$HERE"
exec "$VENV/bin/python" -m pytest -q "$@"
