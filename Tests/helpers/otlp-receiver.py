#!/usr/bin/env python3
"""An OTLP/HTTP metrics receiver for the tests (loopback, a free port). Each export is decoded strictly with
opentelemetry-proto, the OpenTelemetry project's own message definitions (json_format.Parse rejects unknown
fields and wrong types), and what the last one said is written to OUT as JSON.

Usage: otlp-receiver.py PORT_FILE OUT"""
import json
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

from google.protobuf import json_format
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest

PORT_FILE, OUT = sys.argv[1], sys.argv[2]
state = {"exports": 0, "problems": [], "metrics": {}}


def summarize(request):
    metrics, problems = {}, []
    for rm in request.resource_metrics:
        for sm in rm.scope_metrics:
            for m in sm.metrics:
                kind = m.WhichOneof("data")
                entry = {"kind": kind, "points": 0, "total": 0.0, "count": 0, "monotonic": None, "values": []}
                if kind in ("sum", "gauge"):
                    data = getattr(m, kind)
                    if kind == "sum":
                        entry["monotonic"] = data.is_monotonic
                        if data.aggregation_temporality != 2:
                            problems.append("%s is not cumulative" % m.name)
                    for p in data.data_points:
                        entry["points"] += 1
                        entry["values"] += [a.value.string_value for a in p.attributes]
                        entry["total"] += p.as_double
                        if kind == "sum" and p.start_time_unix_nano == 0:
                            problems.append("%s has no start time" % m.name)
                elif kind == "histogram":
                    for p in m.histogram.data_points:
                        entry["points"] += 1
                        entry["values"] += [a.value.string_value for a in p.attributes]
                        entry["count"] += p.count
                        entry["total"] += p.sum
                        if len(p.bucket_counts) != len(p.explicit_bounds) + 1:
                            problems.append("%s: %d buckets for %d bounds" % (m.name, len(p.bucket_counts), len(p.explicit_bounds)))
                        if sum(p.bucket_counts) != p.count:
                            problems.append("%s: buckets add up to %d, count %d" % (m.name, sum(p.bucket_counts), p.count))
                else:
                    problems.append("%s: unexpected kind %s" % (m.name, kind))
                entry["values"] = sorted(set(entry["values"]))  # every attribute value (the tests look for secrets)
                metrics[m.name] = entry
    return metrics, problems


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        try:
            if self.path != "/v1/metrics":
                raise ValueError("path %s" % self.path)
            if self.headers.get("Content-Type") != "application/json":
                raise ValueError("Content-Type %s" % self.headers.get("Content-Type"))
            request = json_format.Parse(body, ExportMetricsServiceRequest())
            metrics, problems = summarize(request)
            state["exports"] += 1
            state["metrics"] = metrics
            state["problems"] += problems
            status, answer = 200, b"{}"
        except Exception as e:  # noqa: BLE001 - any failure is the test's finding
            state["problems"].append("rejected: %s" % e)
            status, answer = 400, json.dumps({"error": str(e)}).encode()
        with open(OUT, "w") as f:
            json.dump(state, f)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


server = HTTPServer(("127.0.0.1", 0), Handler)
with open(PORT_FILE, "w") as f:
    f.write(str(server.server_port))
server.serve_forever()
