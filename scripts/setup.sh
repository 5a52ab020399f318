#!/usr/bin/env bash
# Installs what Rotor needs to build and test on a fresh Debian machine with Node 20:
# npm dependencies (better-sqlite3 compiles with python3, make and g++ when no prebuilt
# binary can be fetched). Idempotent: does nothing that is already done.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
for tool in python3 make g++; do command -v "$tool" >/dev/null || need_apt+=("$tool")
done
if ((${#need_apt[@]})); then
  pkgs=()
  for t in "${need_apt[@]}"; do case "$t" in g++) pkgs+=(g++) ;; *) pkgs+=("$t") ;; esac; done
  echo "setup: installing ${pkgs[*]} from Debian's packages"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq "${pkgs[@]}"
fi

stamp=node_modules/.package-lock.json
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
  echo "setup: installing npm dependencies from package-lock.json"
  # npm 11 can write a lockfile without other platforms' optional packages and then refuse
  # it in `npm ci`; `npm install --no-save` installs the same locked versions without
  # rewriting the lockfile.
  npm ci --no-audit --no-fund --loglevel=error 2>/dev/null || npm install --no-save --no-audit --no-fund --loglevel=error
fi
npm run --silent build
