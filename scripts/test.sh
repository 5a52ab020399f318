#!/usr/bin/env bash
# The whole test suite, from a fresh clone: set up, build, type-check and lint, then every
# test (unit, engine, CLI with real processes, real SQLite, real files).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
npm run --silent lint
npx vitest run "$@"
