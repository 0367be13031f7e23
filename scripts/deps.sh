#!/usr/bin/env bash
# Installs what `make test` needs and a fresh Debian machine lacks, and says what it does.
# Everything else comes from the project's own fetches: Go modules from the module proxy, the
# ClickHouse engine and the snippet's build tools (ffmpeg included) from npm.
#   Debian packages: chromium (browser tests), kcat (reads the topic back in one browser test),
#                    prometheus (promtool checks the alert rules; the alert test runs a server),
#                    gcc and make (cgo launcher of the local ClickHouse).
# As root it installs them with apt-get; otherwise it names the command to run and fails.
set -euo pipefail

have() { command -v "$1" >/dev/null 2>&1; }

need=()
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || need+=(chromium)
have kcat || need+=(kcat)
have promtool && have prometheus || need+=(prometheus)
have gcc || need+=(gcc libc6-dev)
have make || need+=(make)

if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ] || ! have apt-get; then
    echo "deps: missing ${need[*]}; install them (Debian: sudo apt-get install ${need[*]}) or run as root" >&2
    exit 1
  fi
  echo "deps: installing ${need[*]} with apt-get (Debian packages, first run only)"
  export DEBIAN_FRONTEND=noninteractive
  # A fresh machine has no package lists; refresh them when a first install attempt cannot find a package.
  if ! apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null 2>&1; then
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
  echo "deps: installed ${need[*]}"
fi

have npm || { echo "deps: npm is required (it fetches the ClickHouse engine and the snippet's build tools); install Node.js 20+ with npm" >&2; exit 1; }
