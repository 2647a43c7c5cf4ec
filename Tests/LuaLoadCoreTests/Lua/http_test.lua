-- http.lua outside a VU: query encoding, and every argument check of http.* naming the caller's line.
local T = ...
local E = T.E
local tests = {}

function tests.query_keys_are_sorted_and_values_encoded()
  T.eq(E.encode_query({ b = 2, a = "x y", l = { 1, "&" } }), "a=x%20y&b=2&l=1&l=%26", "encode_query")
  T.eq(E.encode_query({ ["k~.-_"] = "ä/?" }), "k~.-_=%C3%A4%2F%3F", "unreserved characters stay")
  T.eq(E.encode_query({}), "", "an empty query")
end

function tests.url_errors_name_the_callers_line()
  T.raises(function() http.get(5) end, T.here() .. ": http.get: expected a path string, got number")
  T.raises(function() http.post("api") end, T.here() .. ': http.post: "api" must start with / or http:// or https://')
  T.raises(function() http.request("GET", nil) end, T.here() .. ": http.get: expected a path string, got nil")
  T.raises(function() http.request("get", "/") end, T.here() .. ': http.request: method must be an upper-case name like "GET", got get')
end

function tests.option_errors_name_the_callers_line()
  local cases = {
    { 5, "opts must be a table" },
    { { headers = "x" }, "opts.headers must be a table, got string" },
    { { headers = { ["Bad Name"] = "v" } }, 'invalid header name "Bad Name"' },
    { { headers = { [""] = "v" } }, 'invalid header name ""' },
    { { headers = { [1] = "v" } }, 'invalid header name "1"' },
    { { headers = { ["X-A"] = "a\r\nb" } }, "header X-A has a line break in its value" },
    { { body = 5 }, "opts.body must be a string, got number" },
    { { body = "x", json = {} }, "give one of opts.body, opts.json or opts.form/opts.files" },
    { { json = {}, form = {} }, "give one of opts.body, opts.json or opts.form/opts.files" },
    { { name = 5 }, "opts.name must be a string, got number" },
    { { timeout = 0 }, "opts.timeout must be a positive number of seconds" },
    { { timeout = "1" }, "opts.timeout must be a number, got string" },
    { { query = "a=1" }, "opts.query must be a table, got string" },
    { { tmeout = 5 }, "unknown option tmeout (accepted: allow_redirects, auth, body, cookies, files, form, headers, json, name, query, tags, timeout)" },
    { { allow_redirects = "no" }, "opts.allow_redirects must be a boolean, got string" },
    { { auth = { "user" } }, 'opts.auth must be { "user", "password" }' },
    { { form = "a=1" }, "opts.form must be a table, got string" },
  }
  for i, c in ipairs(cases) do
    T.raises(function() http.put("/x", c[1]) end, T.here() .. ": http.put: " .. c[2], "case " .. i)
    -- http.request tail-calls the method's function: the position is still the caller's.
    T.raises(function() http.request("PUT", "/x", c[1]) end, T.here() .. ": http.put: " .. c[2], "request case " .. i)
  end
end

function tests.custom_methods_check_like_the_built_in_ones()
  T.raises(function() http.request("PURGE", "/x", { headers = { ["a:b"] = 1 } }) end, T.here() .. ': http.purge: invalid header name "a:b"')
end

function tests.requests_and_sleep_only_inside_a_vu()
  T.raises(function() http.get("/x") end, T.here() .. ": http.get: requests can only be made inside tasks, on_start, on_stop, setup or teardown")
  T.raises(function() sleep(1) end, T.here() .. ": sleep: only inside tasks, on_start or on_stop")
  T.raises(function() sleep(-1) end, T.here() .. ": sleep: expected a number of seconds >= 0")
end

return tests
