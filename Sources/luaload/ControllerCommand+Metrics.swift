import LuaLoadCore
import LuaLoadMetrics

/// --metrics-listen and --out prometheus-rw=/otlp= on a controller: the whole test, live from the agents'
/// merged seconds, each series broken down by the `--by` tag (region) of the agents that made it; the
/// controller's own --tag (testid…), host and segment on every series (docs/prometheus.md, "Prometheus on
/// a controller run"). Nothing runs on the agents for it, nothing per request.
extension RunCommand {
    func controllerMetrics(_ options: RunOptions, _ controller: Controller) throws -> MetricsRun? {
        let tags = try scale.resolveTags(segment: options.segment)
        return try MetricsRun(metrics, tags: tags, thresholds: controller.thresholds, breakdown: controller.options.by)
    }
}

extension MetricsRun {
    /// The final set from the controller's merge (each region's series = its "groups" entry in the JSON), the
    /// final push; returns what the summary should say.
    func finish(_ result: ControllerResult) -> [String] {
        let notes = publisher.finish(result.total, groups: result.groups?.groups)
        endpoint?.stop()
        return notes
    }
}
