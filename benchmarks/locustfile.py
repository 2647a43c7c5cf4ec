"""Locust peer for benchmarks/run: FastHttpUser, GET /health, no think time by default.

LOCUST_WAIT (seconds, default 0) sets constant(wait) for the memory section.
"""
import os

from locust import FastHttpUser, constant, task


class HealthUser(FastHttpUser):
    wait_time = constant(float(os.environ.get("LOCUST_WAIT", "0")))

    @task
    def health(self):
        self.client.get("/health")
