#!/usr/bin/env bash
# Installs the Debian packages luaload needs and lacks (as root): one `apt-get update`, one install.
# Usage: scripts/install-deps.sh [--test]   (--test adds what the test suite uses: nginx, openssl, chromium, luac5.4,
#                                             python3-venv, and a venv .venv-test/ with httpbin + gunicorn, a real
#                                             third-party HTTP server, hdrhistogram, an independent HDR decoder, and
#                                             kubernetes-validate, which checks deploy/k8s/ offline; chromium-driver
#                                             and selenium drive the --web page in a real browser; hypercorn, a
#                                             Python HTTP/2 server; and nghttp2-server's nghttpd)
set -euo pipefail
need=()
# libjs-chart.js: Chart.js, embedded into the binary at build time for the --web page's charts (Sources/CChartJS).
for pkg in liblua5.4-dev lua-cjson-dev libhttp-parser-dev libssl-dev zlib1g-dev libnghttp2-dev pkg-config libjs-chart.js; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
# libsnappy-dev: snappy's C API, the block compression of Prometheus remote write (--out prometheus-rw=).
dpkg -s libsnappy-dev >/dev/null 2>&1 || need+=(libsnappy-dev)
if [ "${1:-}" = "--test" ]; then
  command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
  command -v openssl >/dev/null 2>&1 || need+=(openssl)
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
  command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
  command -v luac5.4 >/dev/null 2>&1 || need+=(lua5.4)   # luac -p over the prelude's .lua files
  command -v nghttpd >/dev/null 2>&1 || need+=(nghttp2-server)   # an HTTP/2 server for the h2 tests
  python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need+=(python3-venv)
  command -v prometheus >/dev/null 2>&1 || need+=(prometheus)   # a real Prometheus (2.42) for the metrics tests
fi
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
if [ "${1:-}" = "--test" ]; then
  venv="$(cd "$(dirname "$0")/.." && pwd)/.venv-test"
  # opentelemetry-proto: the OpenTelemetry project's message definitions, to decode --out otlp= exports.
  if ! "$venv/bin/python" -c 'import httpbin, gunicorn, hdrh, kubernetes_validate, selenium, opentelemetry.proto, hypercorn, check_jsonschema' >/dev/null 2>&1; then
    echo "installing into $venv: httpbin gunicorn hdrhistogram kubernetes-validate selenium opentelemetry-proto hypercorn check-jsonschema"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q "httpbin==0.10.4" "gunicorn" "hdrhistogram" "kubernetes-validate" "selenium" "opentelemetry-proto" "hypercorn" "check-jsonschema"
  fi
fi
