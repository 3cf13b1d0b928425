#!/usr/bin/env bash
# Run every test: the notebooks' own tests (nbdev-test), then pytest (CLI, bad inputs, kill/resume, docs site in
# headless Chromium). Installs Debian's chromium first where it is missing (needs root or sudo).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
nbdev-test --n-workers 2
python -m pytest -q -n 2 -p no:cacheprovider tests
