#!/usr/bin/env bash
# Set up the Node SDK adapter (npm @eppo/node-server-sdk) in DEST: `npm ci` of
# the committed lockfile into DEST/node_modules, and DEST/run.
# Usage: install.sh DEST [VERSION] | install.sh --list-versions
# With VERSION, that release is installed instead of the pin (see
# ../npm-adapter.sh, which does the work for both npm-based adapters).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../npm-adapter.sh"
npm_adapter_main node @eppo/node-server-sdk "$HERE" "$@"
