-- benchmarks/run: closed loop, no think time; every VU asks for /health again and again.
task(function()
  http.get("/health")
end)
