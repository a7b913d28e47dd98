#!/usr/bin/env bash
# The tests drive real Debian programs: chromium (browser tests; Playwright's own browser download
# cannot work offline), tmux (interactive agents) and PostgreSQL's server binaries (the PostgreSQL
# run of the suite and the cluster tests start throwaway servers; nothing is started here), and
# libfaketime (package faketime: the cluster test runs a node whose clock is really off).
# Installs whichever is missing when we are root on Debian; otherwise says what to do.
set -euo pipefail
missing=()
[ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] || missing+=(chromium)
command -v tmux >/dev/null 2>&1 || missing+=(tmux)
[ -n "${LANEBOARD_PG_BIN:-}" ] || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
ls /usr/lib/*/faketime/libfaketime.so.1 >/dev/null 2>&1 || missing+=(faketime)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "installing Debian packages the tests need: ${missing[*]}" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  exit 0
fi
echo "missing: ${missing[*]} — install them (apt-get install -y ${missing[*]}); set CHROMIUM_PATH for another chromium" >&2
exit 1
