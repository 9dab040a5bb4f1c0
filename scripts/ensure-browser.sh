#!/bin/sh
# Make sure a Chromium that Playwright can drive exists: Playwright's own download when present,
# otherwise a system Chromium. On Debian as root, install what is missing of `chromium-headless-shell`
# (the old headless shell: the product prefers it when headless, it costs less CPU per lookup, see
# benchmarks/README.md) and `chromium` (for headed runs, and the fallback).
set -eu
PYTHON="${PYTHON:-.venv/bin/python}"
HEADLESS_SHELL=/usr/lib/chromium/chromium-headless-shell

if [ -n "${AGGREGATOR_BROWSER_EXECUTABLE:-}" ] && [ -x "${AGGREGATOR_BROWSER_EXECUTABLE}" ]; then
  exit 0
fi
bundled=$("$PYTHON" - <<'PY' 2>/dev/null || true
from playwright.sync_api import sync_playwright
with sync_playwright() as p:
    print(p.chromium.executable_path)
PY
)
if [ -n "$bundled" ] && [ -x "$bundled" ]; then
  exit 0
fi
system_chromium() {
  for candidate in /usr/bin/chromium /usr/bin/chromium-browser /usr/bin/google-chrome; do
    if [ -x "$candidate" ]; then return 0; fi
  done
  return 1
}
if [ -x "$HEADLESS_SHELL" ] && system_chromium; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  if [ ! -x "$HEADLESS_SHELL" ]; then
    echo "Installing Debian's chromium-headless-shell package..."
    # Not every distribution release has it: the full browser serves then.
    apt-get install -y -qq chromium-headless-shell >/dev/null || echo "chromium-headless-shell not available; using chromium"
  fi
  if ! system_chromium; then
    echo "Installing Debian's chromium package (no Playwright browser download available)..."
    apt-get install -y -qq chromium >/dev/null || true
  fi
fi
if [ -x "$HEADLESS_SHELL" ] || system_chromium; then
  exit 0
fi
echo "No Chromium found. Install one of: 'playwright install chromium', Debian/Ubuntu 'apt-get install chromium'" >&2
echo "(and 'chromium-headless-shell'), or point AGGREGATOR_BROWSER_EXECUTABLE at a Chromium/Chrome binary." >&2
exit 1
