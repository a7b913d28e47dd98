#!/usr/bin/env bash
# Browser tests drive Debian's chromium (Playwright's own browser download cannot work offline).
# Installs it when missing and we are root; otherwise says what to do.
set -euo pipefail
bin="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ -x "$bin" ]; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "chromium missing: installing Debian's chromium" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  exit 0
fi
echo "chromium not found at $bin: install it (apt-get install -y chromium) or set CHROMIUM_PATH" >&2
exit 1
