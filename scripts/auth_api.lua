-- auth_api.lua: authenticated API workflow (log in, list projects, read metrics, read profile).
--
-- Models the guide's FlyAuthenticatedApiUser: each virtual user logs in once (on_start) and keeps its own
-- bearer token, then lists projects (weight 3), fetches 24h/5m metrics of a random project among
-- 101-104 (weight 2) and reads its profile (weight 1), waiting 1-2 s between tasks.
-- The credentials are a fixed test account of `luaload serve` (see Sources/LuaLoadServe/README.md).
--
-- Run:
--   luaload --serve -u 20 -d 10s scripts/auth_api.lua

local api = user { weight = 1, wait = between(1, 2) }

function api:on_start()
  local res = http.post("/api/v1/auth/login", {
    json = { email = "loadtest.user@example.com", password = "SuperSecurePass123!" },
    name = "POST /api/v1/auth/login",
  })
  if res.status == 200 then
    self.token = res:json().access_token
    self.headers = {
      Authorization = "Bearer " .. self.token,
      ["Content-Type"] = "application/json",
    }
  else
    self.token = nil
    self.headers = {}
  end
end

local project_ids = { 101, 102, 103, 104 }

api:task(3, function(self)
  http.get("/api/v1/projects", { headers = self.headers, name = "GET /api/v1/projects" })
end)

api:task(2, function(self)
  local project_id = project_ids[math.random(#project_ids)]
  http.get("/api/v1/projects/" .. project_id .. "/metrics?range=24h&granularity=5m", {
    headers = self.headers,
    name = "GET /api/v1/projects/:id/metrics",
  })
end)

api:task(1, function(self)
  http.get("/api/v1/me", { headers = self.headers, name = "GET /api/v1/me" })
end)

return api   -- for require("auth_api") in mixed.lua
