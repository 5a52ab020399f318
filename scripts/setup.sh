#!/usr/bin/env bash
# Installs what Rotor needs to build and test on a fresh Debian machine with Node 20:
# npm dependencies (better-sqlite3 compiles with python3, make and g++ when no prebuilt
# binary can be fetched). Idempotent: does nothing that is already done.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: the toolchain for native addons and, with --test, the real servers the
# tests start privately (PostgreSQL, MariaDB, Redis, and moto for Secrets Manager; each run
# uses its own temp dir and port).
pkgs=()
for tool in python3 make g++; do command -v "$tool" >/dev/null || pkgs+=("$tool"); done
if [ "${1:-}" = "--test" ]; then
  compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || pkgs+=(postgresql)
  command -v mariadbd >/dev/null || [ -x /usr/sbin/mariadbd ] || pkgs+=(mariadb-server)
  command -v redis-server >/dev/null || pkgs+=(redis-server)
  command -v script >/dev/null || pkgs+=(bsdutils)
  command -v promtool >/dev/null || pkgs+=(prometheus)
  # moto lives in a project-local virtualenv (.venv/), so the venv module must exist.
  python3 -c 'import venv, ensurepip' 2>/dev/null || pkgs+=(python3-venv)
fi
if ((${#pkgs[@]})); then
  echo "setup: installing ${pkgs[*]} from Debian's packages"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  # The packages' own services are not needed: tests start private instances.
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pkgs[@]}"
fi

stamp=node_modules/.package-lock.json
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
  echo "setup: installing npm dependencies from package-lock.json"
  # npm 11 can write a lockfile without other platforms' optional packages and then refuse
  # it in `npm ci`; `npm install --no-save` installs the same locked versions without
  # rewriting the lockfile.
  npm ci --no-audit --no-fund --loglevel=error 2>/dev/null || npm install --no-save --no-audit --no-fund --loglevel=error
fi
if [ "${1:-}" = "--test" ]; then
  # moto stands in for AWS Secrets Manager and KMS (test/helpers/servers/moto.ts). It is a
  # test tool only: the product stays TypeScript, so it goes into .venv/, not the system.
  if [ ! -x .venv/bin/moto_server ]; then
    echo "setup: installing moto[server] into .venv/ from PyPI"
    [ -x .venv/bin/python ] || python3 -m venv .venv
    .venv/bin/python -m pip install --quiet --disable-pip-version-check 'moto[server]>=5,<6'
  fi
fi
npm run --silent build
