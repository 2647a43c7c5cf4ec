#!/usr/bin/env bash
# Runs deploy/k8s/job.yaml as N segments starting together, then merges their results.
#   deploy/k8s/run.sh script.lua N https://target.example [seconds to start, default 60]
# Needs kubectl (pointing at your cluster) and luaload on this machine; the image named in job.yaml must be
# pullable by the cluster (docker build -f deploy/Dockerfile -t <registry>/luaload . && docker push ...).
# Writes merged.json and merged.html here and prints the merged tables.
set -euo pipefail
[ $# -ge 3 ] || { sed -n '2,6p' "$0"; exit 2; }
script=$1 n=$2 target=$3 lead=${4:-60}
here=$(cd "$(dirname "$0")" && pwd)
# Pods need time to be scheduled and pull the image: the start is `lead` seconds away, the same for all.
start=$(date -u -d "+$lead seconds" +%Y-%m-%dT%H:%M:%SZ)

kubectl create configmap luaload-script --from-file=script.lua="$script" --dry-run=client -o yaml | kubectl apply -f -
kubectl delete job luaload --ignore-not-found --wait=true
sed -e "s/^  completions: .*/  completions: $n/" -e "s/^  parallelism: .*/  parallelism: $n/" \
    -e "/name: SEGMENTS/{n;s/value: .*/value: \"$n\"/}" -e "/name: START_AT/{n;s/value: .*/value: \"$start\"/}" \
    -e "/name: TARGET/{n;s|value: .*|value: \"$target\"|}" "$here/job.yaml" | kubectl apply -f -
echo "luaload: $n segments start at $start"
# A run ends with exit 1 when any request failed, so wait for either outcome, then read every pod's log.
kubectl wait --for=condition=complete --for=condition=failed job/luaload --timeout=24h >/dev/null || true
kubectl logs -l job-name=luaload --tail=-1 --max-log-requests="$n" \
  | luaload merge - --by segment --json merged.json --html merged.html
