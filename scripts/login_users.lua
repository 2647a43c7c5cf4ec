-- login_users.lua: many test accounts, one per virtual user, from a data file.
--
-- Each virtual user takes the next row of users.csv (a data feeder: rows are handed out once each, across
-- all threads, in file order, starting over at the end), logs in with it (on_start), then reads its own
-- profile and the project list, waiting 0.5-1 s between tasks. The accounts are accepted by `luaload serve`
-- (any address with @, password "password"; see Sources/LuaLoadServe/README.md).
--
-- Run:
--   luaload --serve -u 20 -d 10s scripts/login_users.lua

local users = data.csv("users.csv")

local account = user { wait = between(0.5, 1) }

function account:on_start()
  self.email = users:next().email
  local res = http.post("/api/v1/auth/login", {
    json = { email = self.email, password = "password" },
    name = "POST /api/v1/auth/login",
  })
  if res.status == 200 then
    self.auth = { Authorization = "Bearer " .. res:json().access_token }
  end
end

account:task(2, function(self)
  local res = http.get("/api/v1/me", { headers = self.auth, name = "GET /api/v1/me" })
  if res.status == 200 and res:json().email ~= self.email then
    res:failure("logged in as " .. self.email .. " but the profile is " .. tostring(res:json().email))
  end
end)

account:task(1, function(self)
  http.get("/api/v1/projects", { headers = self.auth, name = "GET /api/v1/projects" })
end)

return account
