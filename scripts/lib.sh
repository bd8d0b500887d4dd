# Shared by the scripts: find or install Bun (from npm, pinned), then install dependencies.
# Sourced, not run. Sets BUN to the bun executable and ROOT to the repository root.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUN_VERSION="1.4.5"

find_bun() {
  if command -v bun >/dev/null 2>&1; then BUN="$(command -v bun)"; return; fi
  if [ -x "$HOME/.bun/bin/bun" ]; then BUN="$HOME/.bun/bin/bun"; return; fi
  if [ -x "$ROOT/.tools/node_modules/.bin/bun" ]; then BUN="$ROOT/.tools/node_modules/.bin/bun"; return; fi
  if ! command -v npm >/dev/null 2>&1; then
    echo "error: Bun is not installed and npm is not available to install it." >&2
    echo "       Install Node.js (for npm) or Bun (https://bun.sh), then run this again." >&2
    exit 1
  fi
  echo "==> installing Bun $BUN_VERSION from npm into .tools/" >&2
  npm install --no-save --no-audit --no-fund --loglevel=error --prefix "$ROOT/.tools" "bun@$BUN_VERSION" >&2
  BUN="$ROOT/.tools/node_modules/.bin/bun"
}

install_deps() {
  cd "$ROOT"
  if [ ! -d node_modules ] || [ package.json -nt node_modules ] || [ bun.lock -nt node_modules ]; then
    echo "==> bun install" >&2
    "$BUN" install --frozen-lockfile >&2
    touch node_modules
  fi
}

build_binary() {
  cd "$ROOT"
  "$BUN" run scripts/build.ts >&2
}

find_bun
export PATH="$(dirname "$BUN"):$PATH"
