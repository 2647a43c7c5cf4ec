-- event_ingest.lua: telemetry clients posting events to an ingestion API.
--
-- Models the guide's FlyEventIngestionUser: every 0.2-1.0 s a client posts one JSON event with a random
-- UUID event_id, the current UTC ISO-8601 timestamp, a random event type, region hint and properties.
-- It authenticates with the fixed ingest token that `luaload serve` accepts (lf_ingest_test_token_abc123);
-- the server answers 202 {"accepted":true,...} for a valid event, 400 with the reason otherwise.
--
-- Run:
--   luaload --serve -u 20 -d 10s scripts/event_ingest.lua

local ingest = user { weight = 1, wait = between(0.2, 1.0) }

function ingest:on_start()
  self.headers = {
    Authorization = "Bearer lf_ingest_test_token_abc123",
    ["Content-Type"] = "application/json",
    ["User-Agent"] = "LoadForge-Fly-Ingest-Test/1.0",
  }
end

local function choice(list)
  return list[math.random(#list)]
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

return ingest   -- for require("event_ingest") in mixed.lua
