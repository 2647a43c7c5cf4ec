-- benchmarks/run, the open model's section: the closed model held to the same rate as `--rate`, so the
-- two are compared doing the same work per second. LUALOAD_PER_VU_RATE = the rate / the users.
wait = constant_throughput(tonumber(os.getenv("LUALOAD_PER_VU_RATE") or "100"))
task(function()
  http.get("/health")
end)
