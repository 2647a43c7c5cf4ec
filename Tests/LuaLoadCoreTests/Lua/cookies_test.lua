-- The cookie jar (cookies.lua), as RFC 6265 has a user agent keep one.
local T = ...
local C = T.E.cookies
local now = T.E.wallclock
local tests = {}

function tests.http_dates()
  T.eq(C.parse_date("Wed, 21 Oct 2015 07:28:00 GMT"), 1445412480, "RFC 1123")
  T.eq(C.parse_date("Wednesday, 21-Oct-15 07:28:00 GMT"), 1445412480, "RFC 850")
  T.eq(C.parse_date("Wed Oct 21 07:28:00 2015"), 1445412480, "asctime")
  T.eq(C.parse_date("Thu, 01 Jan 1970 00:00:00 GMT"), 0)
  T.eq(C.parse_date("Sat, 29 Feb 2048 12:00:00 GMT"), 2466590400, "a leap day")
  T.eq(C.parse_date("soon"), nil)
end

function tests.domain_path_and_secure_decide_what_is_sent()
  local jar = {}
  C.store(jar, "host=1", "api.example.com", "/login/form")        -- host-only, default path /login
  C.store(jar, "wide=2; Domain=.Example.com; Path=/", "api.example.com", "/")
  C.store(jar, "sec=3; Secure; HttpOnly", "api.example.com", "/")
  C.store(jar, "evil=4; Domain=other.com", "api.example.com", "/")   -- not the sender's domain: ignored
  T.eq(#jar, 3, "three kept")
  T.eq(C.header(jar, "http", "api.example.com", "/login/x"), "host=1; wide=2", "longest path first; not the Secure one over http")
  T.eq(C.header(jar, "https", "api.example.com", "/login"), "host=1; wide=2; sec=3")
  T.eq(C.header(jar, "http", "api.example.com", "/loginx"), "wide=2", "/login does not path-match /loginx")
  T.eq(C.header(jar, "http", "www.example.com", "/login/x"), "wide=2", "a host-only cookie stays with its host")
  T.eq(C.header(jar, "http", "example.org", "/"), nil)
end

function tests.expiry_replacement_and_deletion()
  local jar = {}
  C.store(jar, "a=1; Max-Age=100", "h", "/")
  C.store(jar, "a=2; Max-Age=100", "h", "/")
  T.eq(#jar, 1, "same name, domain and path: replaced")
  T.eq(C.header(jar, "http", "h", "/"), "a=2")
  C.store(jar, "a=x; Max-Age=0", "h", "/")
  T.eq(#jar, 0, "Max-Age=0 deletes")
  C.store(jar, "b=1; Expires=Wed, 21 Oct 2015 07:28:00 GMT", "h", "/")
  T.eq(#jar, 0, "an expiry in the past is not kept")
  C.store(jar, "c=1; Expires=Wed, 21 Oct 2015 07:28:00 GMT; Max-Age=60", "h", "/")
  T.eq(C.header(jar, "http", "h", "/"), "c=1", "Max-Age wins over Expires")
  jar[1].expires = now() - 1
  T.eq(C.header(jar, "http", "h", "/"), nil, "dropped once expired")
  T.eq(#jar, 0)
end

function tests.odd_values()
  local jar = {}
  C.store(jar, "  spaced  =  v w  ; Path=/x", "h", "/")
  C.store(jar, "=novalue", "h", "/")
  C.store(jar, "empty=", "h", "/")
  T.eq(#jar, 2)
  T.eq(C.header(jar, "http", "h", "/x"), "spaced=v w; empty=")
end

return tests
