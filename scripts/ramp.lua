-- ramp.lua: ramp-up, a plateau, ramp-down, with pass/fail thresholds for CI.
--
-- The guide looks for "errors only during ramp-up", "throughput consistency during ramp-up" and p95/p99
-- targets. This user checks health and reads projects; the stages below ramp 0 → 20 users over 10 s, hold
-- 20 for 20 s and ramp down to 0 in 10 s (each VU stopped by the ramp-down runs on_stop). The thresholds
-- decide the exit code: 0 when all hold, 3 when any is crossed, so a CI job fails on "p95 above 200 ms".
--
-- Run against the built-in target server (the JSON history shows the users following the stages):
--   luaload --serve --json ramp.json --junit thresholds.xml scripts/ramp.lua
-- The command line overrides the script's stages:
--   luaload --serve --stages 5s:50,10s:50,5s:0 scripts/ramp.lua
-- or drives it with the open model instead (arrivals at a rate, whatever the response times):
--   luaload --serve --rate 100/s --max-vus 40 -d 30s scripts/ramp.lua

stages = {
  { duration = "10s", users = 20 },
  { duration = "20s", users = 20 },
  { duration = "10s", users = 0 },
}

thresholds = {
  ["GET /health"] = { "p95 < 200", "fail_rate < 0.01" },
  Aggregated = { "p99 < 500", { "fail_rate < 0.05", abort_on_fail = true, delay = "10s" } },
}

wait = between(0.1, 0.5)

function on_start(self)
  local res = http.post("/api/v1/auth/login", { json = { email = "user@example.com", password = "password" },
                                                 name = "POST /api/v1/auth/login" })
  if res.status == 200 then self.token = res:json().access_token end
end

task(3, function(self)
  http.get("/health", { name = "GET /health" })
end)

task(1, function(self)
  http.get("/api/v1/projects", { name = "GET /api/v1/projects",
                                 headers = { Authorization = "Bearer " .. (self.token or "") } })
end)

function on_stop(self)
  http.get("/health", { name = "GET /health" })
end
