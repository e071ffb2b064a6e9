#!/usr/bin/env bash
# Run the whole test suite (darktable-cli really runs). Expects scripts/setup.sh to have been run once.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/pytest ]; then
  echo "no .venv with pytest: run scripts/setup.sh first" >&2
  exit 1
fi
exec .venv/bin/python -m pytest -q "$@"
