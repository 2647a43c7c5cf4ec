// k6 peer for benchmarks/run: GET BASE_URL/health in a closed loop, no think time; K6_WAIT (seconds, default 0)
// sets a sleep after each request for the memory section (as locustfile.py's LOCUST_WAIT).
import http from 'k6/http';
import { sleep } from 'k6';

const base = __ENV.BASE_URL;
if (!base) throw new Error('BASE_URL is not set (benchmarks/run sets it to the nginx it started)');
const wait = Number(__ENV.K6_WAIT || 0);

export default function () {
  const res = http.get(base + '/health');
  // One line per run, for benchmarks/run to see which protocol k6 spoke (h2 over TLS by ALPN).
  if (__VU === 1 && __ITER === 0) console.log('protocol ' + res.proto);
  if (wait > 0) sleep(wait);
}
