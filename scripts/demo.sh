#!/usr/bin/env bash
# Rotor's main job on the embedded default (local vault, SQLite state), in ./sandbox:
# write a starter config and a master key, show the plan, rotate every secret, show status
# and verify the audit log. Run it again to rotate again.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
rotor="$PWD/bin/rotor.js"
mkdir -p sandbox && cd sandbox
[ -f rotor.yaml ] || "$rotor" init
echo; echo "== rotor plan app/secret-key"; "$rotor" plan app/secret-key
echo; echo "== rotor rotate --all --no-grace --reason demo"; "$rotor" rotate --all --no-grace --reason demo
echo; echo "== rotor status"; "$rotor" status
echo; echo "== rotor audit verify"; "$rotor" audit verify
echo; echo "sandbox: $PWD (values: ../bin/rotor.js get app/secret-key)"
