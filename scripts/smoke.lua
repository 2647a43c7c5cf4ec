-- smoke.lua: baseline health and homepage checks.
--
-- Models the guide's FlyAppSmokeUser: a lightweight user who hits GET /health three times as often
-- as GET /, waiting 1-3 s between tasks. Useful to measure baseline latency and failures during ramp-up.
--
-- Run against the built-in target server:
--   luaload --serve -u 20 -d 10s scripts/smoke.lua
-- or against your own deployment:
--   luaload -H https://myapp.fly.dev -u 20 -d 10s scripts/smoke.lua

local smoke = user { weight = 1, wait = between(1, 3) }

smoke:task(3, function(self)
  http.get("/health", { name = "GET /health" })
end)

smoke:task(1, function(self)
  http.get("/", { name = "GET /" })
end)

return smoke   -- for require("smoke") in mixed.lua
