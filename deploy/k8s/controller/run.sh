#!/usr/bin/env bash
# Runs one test through a controller and N agents on Kubernetes (controller.yaml, agents.yaml), then copies the
# merged reports here (./results: merged.json, merged.html, merged_stats.csv, …).
#   deploy/k8s/controller/run.sh script.lua N https://target.example [region tag, default k8s]
# Needs kubectl (pointing at your cluster); the image named in the manifests must be pullable by the cluster
# (docker build -f deploy/Dockerfile -t <registry>/luaload . && docker push ...).
set -euo pipefail
[ $# -ge 3 ] || { sed -n '2,6p' "$0"; exit 2; }
script=$1 n=$2 target=$3 region=${4:-k8s}
here=$(cd "$(dirname "$0")" && pwd)

kubectl create configmap luaload-script --from-file=script.lua="$script" --dry-run=client -o yaml | kubectl apply -f -
# The tokens, made here once and kept in a Secret: `token` (agents and controller, as LUALOAD_TOKEN), `web` (the
# dashboard), `metrics` (Prometheus' bearer token). A Secret of an older run.sh gets the keys it lacks.
newtoken() { od -An -tx1 -N16 /dev/urandom | tr -d ' \n'; }
kubectl get secret luaload-token >/dev/null 2>&1 || kubectl create secret generic luaload-token --from-literal=token="$(newtoken)"
for key in web metrics; do
  [ -n "$(kubectl get secret luaload-token -o "jsonpath={.data.$key}")" ] \
    || kubectl patch secret luaload-token -p "{\"stringData\":{\"$key\":\"$(newtoken)\"}}"
done
kubectl delete job luaload-agents --ignore-not-found --wait=true
kubectl delete deployment luaload-controller --ignore-not-found --wait=true
sed -e "/name: AGENTS/{n;s/value: .*/value: \"$n\"/}" -e "/name: TARGET/{n;s|value: .*|value: \"$target\"|}" \
    "$here/controller.yaml" | kubectl apply -f -
kubectl rollout status deployment/luaload-controller --timeout=10m
sed -e "s/^  completions: .*/  completions: $n/" -e "s/^  parallelism: .*/  parallelism: $n/" \
    -e "/name: REGION/{n;s/value: .*/value: \"$region\"/}" "$here/agents.yaml" | kubectl apply -f -
pod=$(kubectl get pod -l app=luaload-controller -o jsonpath='{.items[0].metadata.name}')
echo "luaload: controller $pod, $n agents; its live table: kubectl logs -f $pod"
echo "luaload: its dashboard: kubectl port-forward $pod 8089, then open" \
     "http://127.0.0.1:8089/?token=$(kubectl get secret luaload-token -o jsonpath='{.data.web}' | base64 -d)"
until kubectl logs "$pod" | grep -q '^luaload exit code'; do sleep 5; done
kubectl logs "$pod" | sed -n '/^Controller:/,$p'
kubectl cp "$pod:/results" ./results
