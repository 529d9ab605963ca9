#!/usr/bin/env bash
# unleash-server for the flags integration tests (test/flags). It is heavy (hundreds of packages),
# so it lives outside the project's dependencies, in OPSCTL_UNLEASH_DIR (default
# ~/.cache/opsctl/unleash-server), where the tests look for it. Idempotent: an install of the
# same major version is kept.
set -euo pipefail
dir="${OPSCTL_UNLEASH_DIR:-$HOME/.cache/opsctl/unleash-server}"
major=6
manifest="$dir/node_modules/unleash-server/package.json"

if [ -f "$manifest" ]; then
  installed="$(node -p "require(process.argv[1]).version" "$manifest")"
  if [ "${installed%%.*}" = "$major" ]; then
    echo "unleash-server $installed already installed in $dir"
    exit 0
  fi
fi

mkdir -p "$dir"
npm install --prefix "$dir" "unleash-server@$major" --no-audit --no-fund --loglevel=error
echo "unleash-server $(node -p "require(process.argv[1]).version" "$manifest") installed in $dir"
