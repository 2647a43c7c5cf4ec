-- wrk with a Lua script in the request/response path, the closest peer to luaload:
-- request() builds every request in Lua, response() runs for every response and
-- counts statuses in a table of the thread's own Lua state.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  statuses = {}
end

function request()
  return wrk.format("GET", "/health")
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  for _, thread in ipairs(threads) do
    local s = thread:get("statuses")
    for status, n in pairs(s or {}) do
      io.write(string.format("lua status %d: %d\n", status, n))
    end
  end
end
