/// The HTML report's own script: draws each `ll-line` chart from its JSON block, and the latency and
/// distribution charts of the name picked in the list. No animation, so a screenshot shows the final chart.
extension HTMLReport {
    static let drawScript = #"""
    (function () {
      Chart.defaults.animation = false;
      Chart.defaults.font.family = 'system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif';
      Chart.defaults.maintainAspectRatio = false;
      function secs(v, step) {
        if (v >= 3600) { var h = Math.floor(v / 3600), m = Math.round((v % 3600) / 60); return h + 'h' + (m ? m + 'm' : ''); }
        if (v >= 60 && step >= 1) { var mm = Math.floor(v / 60), s = Math.round(v % 60); return mm + 'm' + (s ? s + 's' : ''); }
        var d = 0;   // as many decimals as the step has (0.25 → 2, 0.005 → 3): ticks never print alike
        while (d < 6 && Math.abs(step * Math.pow(10, d) - Math.round(step * Math.pow(10, d))) > 1e-6 * Math.pow(10, d)) d++;
        return v.toFixed(d) + 's';
      }
      function xAxis(t) {
        var end = t.length ? t[t.length - 1] : 1;
        return { type: 'linear', min: 0, max: end > 0 ? end : 1, title: { display: true, text: 'time into the run' },
                 ticks: { maxTicksLimit: 10, callback: function (v, i, ticks) {
                   var step = ticks.length > 1 ? ticks[1].value - ticks[0].value : 1; return secs(v, step); } } };
      }
      function points(t, values) {
        var out = [];
        for (var i = 0; i < t.length; i++) out.push({ x: t[i], y: values[i] });
        return out;
      }
      function dataset(name, color, t, values) {
        return { label: name, data: points(t, values), borderColor: color, backgroundColor: color, borderWidth: 2,
                 pointRadius: t.length < 40 ? 3 : 0, spanGaps: false, tension: 0, clip: false };
      }
      function yAxis(unit, integer) {
        return { beginAtZero: true, title: { display: unit !== '', text: unit },
                 ticks: integer ? { precision: 0 } : {} };
      }
      function lineChart(canvas, data) {
        return new Chart(canvas, {
          type: 'line',
          data: { datasets: data.series.map(function (s) { return dataset(s.name, s.color, data.t, s.values); }) },
          options: { parsing: false, normalized: true, interaction: { mode: 'index', intersect: false },
                     plugins: { decimation: { enabled: true, algorithm: 'min-max' } },
                     scales: { x: xAxis(data.t), y: yAxis(data.unit, data.integer) } }
        });
      }
      document.querySelectorAll('script.ll-line').forEach(function (block) {
        var canvas = document.getElementById(block.id.replace(/-data$/, ''));
        if (canvas) lineChart(canvas, JSON.parse(block.textContent));
      });

      var namesBlock = document.getElementById('ll-names');
      if (!namesBlock) return;
      var all = JSON.parse(namesBlock.textContent);
      var latency = new Chart(document.getElementById('chart-latency'), {
        type: 'line', data: { datasets: [] },
        options: { parsing: false, normalized: true, interaction: { mode: 'index', intersect: false },
                   plugins: { decimation: { enabled: true, algorithm: 'min-max' },
                              subtitle: { display: false, text: '' } },
                   scales: { x: xAxis(all.t), y: yAxis('ms', false) } }
      });
      var distribution = new Chart(document.getElementById('chart-distribution'), {
        type: 'bar', data: { labels: [], datasets: [{ label: 'requests', data: [], backgroundColor: '#1565c0' }] },
        options: { scales: { x: { title: { display: true, text: 'response time, up to (ms)' } },
                             y: { beginAtZero: true, title: { display: true, text: 'requests' }, ticks: { precision: 0 } } } }
      });
      function label(ms) { return ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms >= 1 ? ms.toFixed(2) : ms >= 0.1 ? ms.toFixed(3) : ms.toFixed(4); }
      function show(k) {
        var n = all.names[k];
        if (n.p50) {
          latency.data.datasets = [dataset('p50', '#1565c0', all.t, n.p50), dataset('p95', '#ef6c00', all.t, n.p95),
                                   dataset('p99', '#6a1b9a', all.t, n.p99)];
          latency.options.plugins.subtitle = { display: false, text: '' };
        } else {
          latency.data.datasets = [];
          latency.options.plugins.subtitle = { display: true, text: 'no per-second times for this name (merged from runs that did not keep their seconds per name)' };
        }
        latency.update();
        distribution.data.labels = n.bins.map(label);
        distribution.data.datasets[0].data = n.counts;
        distribution.update();
      }
      var pick = document.getElementById('ll-name');
      pick.addEventListener('change', function () { show(+pick.value); });
      show(+pick.value);
    })();

    """#
}
