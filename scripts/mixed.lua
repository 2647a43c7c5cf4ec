-- mixed.lua: all four user types of the guide in one test, as weighted user classes.
--
-- Each virtual user is one of (weight = share of the virtual users):
--   smoke    (1): FlyAppSmokeUser            GET /health x3, GET /;            wait 1-3 s
--   api      (3): FlyAuthenticatedApiUser    login, projects, metrics, me;     wait 1-2 s
--   ingest   (3): FlyEventIngestionUser      POST /api/v1/events/ingest;       wait 0.2-1.0 s
--   uploader (1): FlyUploadWorkflowUser      login, presign, list uploads;     wait 1-3 s
-- With -u 20 that is about 2-3 smoke users, 7-8 API users, 7-8 ingest clients and 2-3 uploaders.
-- The credentials and tokens are the fixed test ones of `luaload serve` (Sources/LuaLoadCore/Serve/README.md);
-- against the built-in server every request should succeed.
--
-- Run:
--   luaload --serve -u 20 -d 10s scripts/mixed.lua

local function choice(list)
  return list[math.random(#list)]
end

---------------------------------------------------------------- FlyAppSmokeUser
local smoke = user { weight = 1, wait = between(1, 3) }

smoke:task(3, function(self)
  http.get("/health", { name = "GET /health" })
end)

smoke:task(1, function(self)
  http.get("/", { name = "GET /" })
end)

---------------------------------------------------------------- FlyAuthenticatedApiUser
local api = user { weight = 3, wait = between(1, 2) }

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

api:task(3, function(self)
  http.get("/api/v1/projects", { headers = self.headers, name = "GET /api/v1/projects" })
end)

api:task(2, function(self)
  local project_id = choice({ 101, 102, 103, 104 })
  http.get("/api/v1/projects/" .. project_id .. "/metrics?range=24h&granularity=5m", {
    headers = self.headers,
    name = "GET /api/v1/projects/:id/metrics",
  })
end)

api:task(1, function(self)
  http.get("/api/v1/me", { headers = self.headers, name = "GET /api/v1/me" })
end)

---------------------------------------------------------------- FlyEventIngestionUser
local ingest = user { weight = 3, wait = between(0.2, 1.0) }

function ingest:on_start()
  self.headers = {
    Authorization = "Bearer lf_ingest_test_token_abc123",
    ["Content-Type"] = "application/json",
    ["User-Agent"] = "LoadForge-Fly-Ingest-Test/1.0",
  }
end

ingest:task(1, function(self)
  local payload = {
    event_id = uuid(),
    tenant_id = "tenant_demo_001",
    source = "web",
    event_type = choice({ "page_view", "signup_started", "checkout_completed", "api_error" }),
    timestamp = utc_iso8601(),
    region_hint = choice({ "iad", "ord", "lhr", "fra", "sin" }),
    properties = {
      path = choice({ "/pricing", "/signup", "/dashboard", "/api/v1/projects" }),
      response_time_ms = math.random(45, 1200),
      plan = choice({ "free", "pro", "enterprise" }),
    },
  }
  http.post("/api/v1/events/ingest", {
    json = payload,
    headers = self.headers,
    name = "POST /api/v1/events/ingest",
  })
end)

---------------------------------------------------------------- FlyUploadWorkflowUser
local uploader = user { weight = 1, wait = between(1, 3) }

function uploader:on_start()
  local res = http.post("/api/v1/auth/login", {
    json = { email = "uploader@example.com", password = "UploadFlowPass456!" },
    name = "POST /api/v1/auth/login",
  })
  local ok, data = pcall(res.json, res)
  local token = ok and type(data) == "table" and data.access_token or nil
  self.headers = {
    Authorization = "Bearer " .. tostring(token),
    ["Content-Type"] = "application/json",
  }
end

uploader:task(2, function(self)
  local payload = {
    filename = "report-" .. uuid() .. ".csv",
    content_type = "text/csv",
    size_bytes = math.random(50000, 5000000),
    folder = "customer-exports",
  }
  local res = http.post("/api/v1/uploads/presign", {
    json = payload,
    headers = self.headers,
    name = "POST /api/v1/uploads/presign",
  })
  if res.status ~= 200 then
    res:failure("Unexpected status code: " .. tostring(res.status))
    return
  end
  local ok, data = pcall(res.json, res)
  if not ok or type(data) ~= "table" or data.upload_url == nil or data.file_id == nil then
    res:failure("Missing upload_url or file_id in response")
  end
end)

uploader:task(1, function(self)
  http.get("/api/v1/uploads?limit=20&status=pending,complete", {
    headers = self.headers,
    name = "GET /api/v1/uploads",
  })
end)
