"""One module per tool's output: wrk, h2load, Locust, k6, luaload's JSON, callgrind, benchmarks/agent-cost.sh.
Each is tested against captured real outputs (benchmarks/tests/fixtures/)."""
