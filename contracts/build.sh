#!/usr/bin/env bash
# Rebuilds contracts/artifacts from contracts/src with solc-js from npm (pinned in
# package.json). Needs Node.js and npm. The artifacts are committed, so tests do not need this.
set -euo pipefail
cd "$(dirname "$0")"
npm install --no-audit --no-fund --silent --no-package-lock
node compile.js
