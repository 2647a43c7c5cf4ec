#!/usr/bin/env bash
# Runs one test from several Fly.io regions at once: M machines per region, each a segment of the whole,
# tagged with its region (FLY_REGION, which Fly sets), started together; their JSON is collected from the
# machines' logs and merged, per region beside the total.
#   deploy/fly/run.sh APP IMAGE script.lua "ams iad sin" M [luaload options...]
# e.g. deploy/fly/run.sh luaload-runner registry.fly.io/luaload-runner:latest scripts/smoke.lua "ams iad" 2 \
#        -H https://myapp.fly.dev -u 200 -r 20 -d 5m
# Needs flyctl (logged in), an app for the runners (fly apps create APP) and the image pushed to it
# (fly deploy --build-only --push -a APP --dockerfile deploy/Dockerfile, or docker push). Writes merged.json and
# merged.html here.
set -euo pipefail
[ $# -ge 5 ] || { sed -n '2,11p' "$0"; exit 2; }
app=$1 image=$2 script=$3 regions=$4 per=$5
shift 5
read -r -a list <<< "$regions"
n=$(( ${#list[@]} * per ))
start=$(( $(date +%s) + 90 ))          # machines boot in seconds; the image pull may take longer
out=$(mktemp -d)
i=0 ids=()
for region in "${list[@]}"; do
  for ((k = 0; k < per; k++)); do
    # The script goes in as a file; the JSON comes out on stdout (--json -), among the logs.
    id=$(fly machine run "$image" -a "$app" --region "$region" --restart no --rm --detach \
           --file-local "/scripts/test.lua=$script" \
           --env "LUALOAD_SEGMENT=$i/$n" \
           -- --start-at "$start" -q --json - "$@" /scripts/test.lua | sed -n 's/.*Machine ID: *\([0-9a-f]*\).*/\1/p')
    ids+=("$id"); i=$((i + 1))
    echo "segment $((i - 1))/$n in $region: machine $id"
  done
done
for id in "${ids[@]}"; do fly machine wait "$id" -a "$app" --state stopped --wait-timeout 24h >/dev/null 2>&1 || true; done
for id in "${ids[@]}"; do fly logs -a "$app" --machine "$id" --no-tail > "$out/$id.log"; done
# fly logs prefixes each line (time, region, machine): strip up to the message so each JSON starts its line.
sed -e 's/^[^]]*\] *//' -e 's/^.*app\[[0-9a-f]*\] [a-z]* *\[info\]//' "$out"/*.log \
  | luaload merge - --by region --json merged.json --html merged.html
