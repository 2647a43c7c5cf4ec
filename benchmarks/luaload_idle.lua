-- benchmarks/run memory section: mostly idle VUs (one request every 5 s each),
-- so that peak RSS shows the cost of a VU rather than of traffic.
wait = constant(5)
task(function()
  http.get("/health")
end)
