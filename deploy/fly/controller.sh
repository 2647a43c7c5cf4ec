#!/usr/bin/env bash
# One test from several Fly.io regions at once, live: a controller machine (luaload --controller) and M agent
# machines per region (luaload agent, tagged region=$FLY_REGION), over Fly's private network (6PN). The
# controller starts them together, merges them every second and writes the merged reports; its log is read
# back here into merged.json / merged.html.
#   deploy/fly/controller.sh APP IMAGE script.lua "ams iad sin" M [luaload options...]
# e.g. deploy/fly/controller.sh luaload-runner registry.fly.io/luaload-runner:latest scripts/smoke.lua "ams iad" 2 \
#        -H https://myapp.fly.dev -u 200 -r 20 -d 5m
# Needs flyctl (logged in), an app for the runners (fly apps create APP) and the image pushed to it.
set -euo pipefail
[ $# -ge 5 ] || { sed -n '2,9p' "$0"; exit 2; }
app=$1 image=$2 script=$3 regions=$4 per=$5
shift 5
read -r -a list <<< "$regions"
n=$(( ${#list[@]} * per ))
newtoken() { od -An -tx1 -N16 /dev/urandom | tr -d ' \n'; }
token=$(newtoken) web=$(newtoken) metrics=$(newtoken)
# The controller listens on the private network (IPv6) only: the link, its dashboard (--web) and Prometheus'
# /metrics, each with its own token. It needs no public port.
ctl=$(fly machine run "$image" -a "$app" --region "${list[0]}" --restart no --detach \
        --file-local "/scripts/test.lua=$script" --env "LUALOAD_TOKEN=$token" \
        -- --controller "[::]:7400" --agents "$n" --agents-timeout 10m --print-stats --json - \
           --web "[::]:8089" --web-token "$web" --metrics-listen "[::]:9464" --metrics-token "$metrics" "$@" /scripts/test.lua \
      | sed -n 's/.*Machine ID: *\([0-9a-f]*\).*/\1/p')
echo "controller: machine $ctl in ${list[0]}"
echo "  its dashboard: fly proxy 8089:8089 $ctl.vm.$app.internal -a $app, then open http://127.0.0.1:8089/?token=$web"
echo "  its Prometheus metrics (from the 6PN): http://$ctl.vm.$app.internal:9464/metrics, Authorization: Bearer $metrics"
for region in "${list[@]}"; do
  for ((k = 0; k < per; k++)); do
    id=$(fly machine run "$image" -a "$app" --region "$region" --restart no --rm --detach --env "LUALOAD_TOKEN=$token" \
           -- agent "$ctl.vm.$app.internal:7400" --connect-timeout 10m -q --json - \
         | sed -n 's/.*Machine ID: *\([0-9a-f]*\).*/\1/p')
    echo "agent in $region: machine $id"
  done
done
fly machine wait "$ctl" -a "$app" --state stopped --wait-timeout 24h >/dev/null 2>&1 || true
fly logs -a "$app" --machine "$ctl" --no-tail > controller.log
# fly logs prefixes each line (time, region, machine): strip it so the JSON starts its line, then read it back.
sed -e 's/^[^]]*\] *//' -e 's/^.*app\[[0-9a-f]*\] [a-z]* *\[info\]//' controller.log \
  | luaload merge - --json merged.json --html merged.html
