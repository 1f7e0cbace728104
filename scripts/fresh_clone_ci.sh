#!/usr/bin/env bash
# Run CI's entry point in a fresh clone of the committed HEAD, as CI does:
# a green run in a working tree can hide a missing install step.
set -euo pipefail
repo=$(git rev-parse --show-toplevel)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
git clone --quiet "$repo" "$dir/clone"
cd "$dir/clone"
CI=true bash .ci/run </dev/null
