#!/usr/bin/env bash
# Installs the Debian packages luaload needs and lacks (as root): one `apt-get update`, one install.
# Usage: scripts/install-deps.sh [--test]   (--test adds what the test suite uses: nginx, openssl, chromium, luac5.4,
#                                             python3-venv, and a venv .venv-test/ with httpbin + gunicorn, a real
#                                             third-party HTTP server, hdrhistogram, an independent HDR decoder, and
#                                             kubernetes-validate, which checks deploy/k8s/ offline; chromium-driver
#                                             and selenium drive the --web page in a real browser)
set -euo pipefail
need=()
# libjs-chart.js: Chart.js, embedded into the binary at build time for the --web page's charts (Sources/CChartJS).
for pkg in liblua5.4-dev lua-cjson-dev libhttp-parser-dev libssl-dev zlib1g-dev pkg-config libjs-chart.js; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ "${1:-}" = "--test" ]; then
  command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
  command -v openssl >/dev/null 2>&1 || need+=(openssl)
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
  command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
  command -v luac5.4 >/dev/null 2>&1 || need+=(lua5.4)   # luac -p over the prelude's .lua files
  python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need+=(python3-venv)
fi
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
if [ "${1:-}" = "--test" ]; then
  venv="$(cd "$(dirname "$0")/.." && pwd)/.venv-test"
  if ! "$venv/bin/python" -c 'import httpbin, gunicorn, hdrh, kubernetes_validate, selenium' >/dev/null 2>&1; then
    echo "installing into $venv: httpbin gunicorn hdrhistogram kubernetes-validate selenium"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q "httpbin==0.10.4" "gunicorn" "hdrhistogram" "kubernetes-validate" "selenium"
  fi
fi
