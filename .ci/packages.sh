#!/usr/bin/env bash
# Debian packages integration tests need. Installs only what is missing.
set -euo pipefail
packages=(postgresql-15-hypopg haproxy tmux libxml2-utils pgbouncer)
missing=()
for package in "${packages[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi
