-- upload_presign.lua: the app-controlled part of a signed-URL upload flow.
--
-- Models the guide's FlyUploadWorkflowUser: each virtual user logs in once (on_start), then asks for
-- presigned upload URLs for random CSV exports of 50 KB-5 MB (weight 2) and lists its recent uploads
-- (weight 1), waiting 1-3 s between tasks. A presign answer that is not 200, or lacks upload_url or
-- file_id, is marked failed with res:failure.
-- The credentials are a fixed test account of `luaload serve` (see Sources/LuaLoadServe/README.md).
--
-- Run:
--   luaload --serve -u 20 -d 10s scripts/upload_presign.lua

local uploader = user { weight = 1, wait = between(1, 3) }

function uploader:on_start()
  local res = http.post("/api/v1/auth/login", {
    json = { email = "uploader@example.com", password = "UploadFlowPass456!" },
    name = "POST /api/v1/auth/login",
  })
  -- Like the guide, use whatever token came back: a failed login shows up as 401s on the tasks.
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

return uploader   -- for require("upload_presign") in mixed.lua
