#!/usr/bin/env bash
# The one command to install and start nslab: installs what is missing, builds the
# web app, and serves it (applying the bundled bridge lab when no lab is running).
# Extra arguments go to `nslab serve` (e.g. --port 8080).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
npm run build --silent
exec node apps/server/bin/nslab.mjs serve "$@"
