#!/usr/bin/env bash
# The whole test suite: formatting, lints, the dependency rule, and every test.
# CI runs exactly this (.ci/run). Needs the Rust toolchain and python3 (for the independent
# SM2/SM3 implementation the crypto tests cross-check against, and parsers for the explorer's
# HTML and /metrics); installs Node.js and Chromium from Debian if missing, and the client
# libraries the RPC tests drive (tests/clients) from npm.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "python venv: gmssl (independent SM2/SM3 for cross-checks), web3.py (a real client)"
if ! .venv/bin/python -c 'import gmssl' 2>/dev/null; then
  if ! python3 -m venv .venv 2>/dev/null; then
    # Debian splits venv support out of python3.
    apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
    python3 -m venv .venv
  fi
  .venv/bin/pip install --quiet 'gmssl==3.2.2'
fi
if ! .venv/bin/python -c 'import web3' 2>/dev/null; then
  .venv/bin/pip install --quiet 'web3==8.0.0'
fi
if ! .venv/bin/python -c 'import html5lib, prometheus_client' 2>/dev/null; then
  # Independent parsers for the explorer's HTML and the /metrics text.
  .venv/bin/pip install --quiet 'html5lib==1.1' 'prometheus-client==0.26.0'
fi
export JINLIAN_PYTHON="$PWD/.venv/bin/python"

step "headless Chromium for the explorer test (from Debian)"
if ! command -v chromium >/dev/null; then
  apt-get update -qq && apt-get install -y -qq chromium >/dev/null
fi
JINLIAN_CHROMIUM="$(command -v chromium)"
export JINLIAN_CHROMIUM

step "real Ethereum clients for the RPC tests (ethers.js and cast from npm)"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null
fi
(cd tests/clients && npm ci --no-audit --no-fund --silent)

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo clippy -p jinlian-sim --features defects --all-targets --locked -- -D warnings

step "pure cores depend on no runtime, socket or disk engine"
for crate in jinlian-crypto jinlian-primitives jinlian-consensus jinlian-executor; do
  bad=$(cargo tree -p "$crate" -e normal --prefix none --locked | awk '{print $1}' \
        | grep -E '^(tokio|mio|socket2|redb|hyper|jsonrpsee)$' || true)
  if [ -n "$bad" ]; then
    echo "error: $crate must stay pure but depends on: $bad" >&2
    exit 1
  fi
done

step "cargo test"
cargo test --workspace --locked

step "the simulator's checkers catch deliberately broken replicas"
cargo test -p jinlian-sim --features defects --test checkers_bite --locked
