-- URLs and bodies (url.lua): splitting, resolving a Location, query and form encoding, base64, multipart.
local T = ...
local U = T.E.url
local tests = {}

function tests.split_absolute_and_relative_urls()
  local scheme, host, port, path, query = U.split("https://Example.COM:8443/a/b?x=1#frag")
  T.eq(scheme, "https"); T.eq(host, "example.com"); T.eq(port, 8443); T.eq(path, "/a/b"); T.eq(query, "x=1")
  scheme, host, port, path, query = U.split("http://h")
  T.eq(port, 80, "default port"); T.eq(path, "/", "no path"); T.eq(query, nil, "no query")
  scheme, host, port, path = U.split("http://[::1]:8080/x")
  T.eq(host, "::1", "IPv6 literal"); T.eq(port, 8080)
  scheme, host, port, path, query = U.split("/p?q")
  T.eq(scheme, nil, "relative"); T.eq(path, "/p"); T.eq(query, "q")
  T.eq(U.split("ftp://x/"), nil, "not http")
  T.eq(U.split("p"), nil, "neither absolute nor a path")
end

function tests.origins_leave_default_ports_out()
  T.eq(U.origin("http", "h", 80), "http://h")
  T.eq(U.origin("https", "h", 443), "https://h")
  T.eq(U.origin("http", "h", 8080), "http://h:8080")
  T.eq(U.origin("http", "::1", 80), "http://[::1]")
end

function tests.a_location_resolves_against_the_url_it_came_with()
  local base = "http://h:8080/a/b/c?q=1"
  T.eq(U.resolve(base, "https://other/x"), "https://other/x", "absolute")
  T.eq(U.resolve(base, "//cdn/x"), "http://cdn/x", "scheme-relative")
  T.eq(U.resolve(base, "/x/./y/../z?k=v"), "http://h:8080/x/z?k=v", "absolute path, dot segments removed")
  T.eq(U.resolve(base, "d"), "http://h:8080/a/b/d", "relative to the directory")
  T.eq(U.resolve(base, "../d"), "http://h:8080/a/d")
  T.eq(U.resolve(base, "../../../../d"), "http://h:8080/d", "never above the root")
  T.eq(U.resolve(base, "?only=query"), "http://h:8080/a/b/c?only=query")
  T.eq(U.resolve("http://h", "x"), "http://h/x")
end

function tests.query_form_and_base64()
  T.eq(U.encode_query({ b = 2, a = "x y", l = { 1, "&" } }), "a=x%20y&b=2&l=1&l=%26")
  T.eq(U.base64(""), "")
  T.eq(U.base64("f"), "Zg==")
  T.eq(U.base64("fo"), "Zm8=")
  T.eq(U.base64("foo"), "Zm9v")
  T.eq(U.base64("user:pass"), "dXNlcjpwYXNz")
end

function tests.multipart_bodies()
  local body, boundary = U.multipart({ a = "1" }, { f = { filename = 'x"y.txt', content = "data" }, g = "plain" })
  T.ok(boundary:find("^luaload%-%x+$"), "boundary " .. boundary)
  local b = "--" .. boundary
  T.eq(body, b .. '\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n'
    .. b .. '\r\nContent-Disposition: form-data; name="f"; filename="x%22y.txt"\r\nContent-Type: application/octet-stream\r\n\r\ndata\r\n'
    .. b .. '\r\nContent-Disposition: form-data; name="g"; filename="g"\r\nContent-Type: application/octet-stream\r\n\r\nplain\r\n'
    .. b .. "--\r\n")
end

return tests
