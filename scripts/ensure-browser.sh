#!/bin/sh
# Make sure a Chromium that Playwright can drive exists: Playwright's own download when present,
# otherwise a system Chromium; on Debian as root, install the `chromium` package when it is missing.
set -eu
PYTHON="${PYTHON:-.venv/bin/python}"

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
for candidate in /usr/bin/chromium /usr/bin/chromium-browser /usr/bin/google-chrome; do
  if [ -x "$candidate" ]; then exit 0; fi
done
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's chromium package (no Playwright browser download available)..."
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  [ -x /usr/bin/chromium ] && exit 0
fi
echo "No Chromium found. Install one of: 'playwright install chromium', Debian/Ubuntu 'apt-get install chromium'," >&2
echo "or point AGGREGATOR_BROWSER_EXECUTABLE at a Chromium/Chrome binary." >&2
exit 1
