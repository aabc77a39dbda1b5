#!/usr/bin/env bash
# Set up the js-client adapter (npm @eppo/js-client-sdk-common) in DEST: `npm
# ci` of the committed lockfile into DEST/node_modules, and DEST/run.
# Usage: install.sh DEST [VERSION] | install.sh --list-versions
# With VERSION, that release is installed instead of the pin (see
# ../npm-adapter.sh, which does the work for both npm-based adapters); the
# adapter declares only the capabilities that release has the API for.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../npm-adapter.sh"
npm_adapter_main js-client @eppo/js-client-sdk-common "$HERE" "$@"
