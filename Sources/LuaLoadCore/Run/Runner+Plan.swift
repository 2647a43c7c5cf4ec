#if canImport(Glibc)
import Glibc
#endif

/// Splits `total` users across classes as Locust does: fixed counts first, then the rest by weight in a
/// smooth weighted round-robin, so counts are proportional and the spawn order interleaves the classes.
public func distributeUsers(total: Int, classes: [UserClassInfo]) -> [Int] {
    var order: [Int] = []
    for (c, info) in classes.enumerated() where info.fixedCount > 0 {
        order.append(contentsOf: repeatElement(c, count: min(info.fixedCount, total - order.count)))
    }
    let weighted = classes.indices.filter { classes[$0].fixedCount == 0 && classes[$0].weight > 0 }
    let sum = weighted.reduce(0) { $0 + classes[$1].weight }
    guard sum > 0 else { return order }
    var current = [Int](repeating: 0, count: classes.count)
    while order.count < total {
        var best = -1
        for c in weighted {
            current[c] += classes[c].weight
            if best < 0 || current[c] > current[best] { best = c }
        }
        current[best] -= sum
        order.append(best)
    }
    return order
}

extension Runner {
    /// Each thread's users: dealt round-robin in spawn order, each with its start offset from --spawn-rate.
    /// There are never more threads than users.
    /// With a ramp or the open model, the plan is the VU pool: every VU the run can reach, in spawn order.
    /// With --segment i/N, only the global VUs k ≡ i (mod N) are planned, keeping their global index and
    /// spawn offset (Segment.swift); they are dealt round-robin among this process's threads.
    func planUsers() -> [[VUPlan]] {
        if case .scenarios(let list) = profile { return planScenarioUsers(list) }
        let segment = options.segment
        let threads = min(options.threads, segmentUsers)
        var plans = [[VUPlan]](repeating: [], count: threads)
        let spawnRate = profile.isFixed ? options.spawnRate : nil
        var m = 0
        for (k, cls) in distributeUsers(total: poolSize, classes: classes).enumerated() where segment.owns(k) {
            let offset = spawnRate.map { UInt64(Double(k) / $0 * 1_000_000) } ?? 0
            plans[m % threads].append(VUPlan(classIndex: cls, globalID: k, startOffsetMicros: offset))
            m += 1
        }
        return plans
    }

    /// This process's VUs: the pool, or the segment's share of it.
    var segmentUsers: Int { options.segment.share(of: poolSize) }

    /// One Worker per plan, each with its share of -n and its mode; each wakes this thread (SIGUSR1) when
    /// it ends. `origin`: the run's start, the open model's t = 0 for every worker.
    func makeWorkers(_ plans: [[VUPlan]], config: WorkerConfig, origin: UInt64) -> [Worker] {
        let me = pthread_self()
        return plans.indices.map { k in
            var c = config
            if let n = options.iterations { c.iterationLimit = Runner.share(options.segment.iterations(n, pool: poolSize), counts: plans.map(\.count), k) }
            if case .scenarios(let list) = profile { c.iterationQuotas = scenarioQuotas(list, plans, k) }
            c.mode = workerMode(thread: k, threads: plans.count, origin: origin)
            if let wrk, let ep = c.defaultEndpoint { c.defaultEndpoint = wrk.endpoint(k, base: ep) }
            let worker = Worker.make(index: k, config: c, plan: plans[k])
            worker.preparedScript = wrk?.state(k)
            worker.mailbox.notify = me
            return worker
        }
    }

    /// Thread k's part of n task runs, in proportion to its users (`counts`: each thread's); the parts add up to n exactly.
    static func share(_ n: Int, counts: [Int], _ k: Int) -> Int {
        let before = counts[..<k].reduce(0, +)
        let through = before + counts[k]
        let total = counts.reduce(0, +)
        return total == 0 ? 0 : n * through / total - n * before / total
    }
}
