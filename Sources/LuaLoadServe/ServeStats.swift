import CPosix

/// The route patterns the server counts requests under (the keys of /__stats "routes").
enum ServeRoute: Int, CaseIterable {
    case root, health, login, me, projects, metrics, ingest, presign, uploads, other

    var key: StaticString {
        switch self {
        case .root: return "GET /"
        case .health: return "GET /health"
        case .login: return "POST /api/v1/auth/login"
        case .me: return "GET /api/v1/me"
        case .projects: return "GET /api/v1/projects"
        case .metrics: return "GET /api/v1/projects/{id}/metrics"
        case .ingest: return "POST /api/v1/events/ingest"
        case .presign: return "POST /api/v1/uploads/presign"
        case .uploads: return "GET /api/v1/uploads"
        case .other: return "other"
        }
    }
}

/// One thread's request counters: route × status (100...599), plus malformed requests.
/// Only the owning thread writes (load + release store, no lock); /__stats on any thread reads with acquire loads.
final class ServeStats: @unchecked Sendable {
    static let statusBase = 100
    static let statusCount = 500
    static let rows = ServeRoute.allCases.count
    private static let rejectedCell = rows * statusCount

    private let cells: UnsafeMutablePointer<UInt64>

    init() {
        let n = ServeStats.rows * ServeStats.statusCount + 1
        cells = .allocate(capacity: n)
        cells.initialize(repeating: 0, count: n)
    }

    deinit { cells.deallocate() }

    @inline(__always)
    func record(_ route: ServeRoute, status: Int) {
        let s = min(max(status, 100), 599) - ServeStats.statusBase
        cposix_counter_bump(cells + (route.rawValue * ServeStats.statusCount + s))
    }

    /// A request that could not be parsed (answered 400/411/413/431/505 and closed): not in "total".
    @inline(__always)
    func recordRejected() {
        cposix_counter_bump(cells + ServeStats.rejectedCell)
    }

    @inline(__always)
    func load(_ cell: Int) -> UInt64 { cposix_counter_load(cells + cell) }

    /// `{"total": N, "rejected": R, "routes": {"GET /health": {"200": 10, "500": 1}, ...}}` summed over all threads.
    static func json(_ tables: [ServeStats]) -> [UInt8] {
        var merged = [UInt64](repeating: 0, count: rows * statusCount + 1)
        for t in tables {
            for i in 0..<merged.count { merged[i] &+= t.load(i) }
        }
        var total: UInt64 = 0
        for i in 0..<(rows * statusCount) { total &+= merged[i] }
        var out = ByteWriter(capacity: 512)
        out.lit("{\"total\":")
        out.int(Int(total))
        out.lit(",\"rejected\":")
        out.int(Int(merged[rejectedCell]))
        out.lit(",\"routes\":{")
        var firstRoute = true
        for route in ServeRoute.allCases {
            let base = route.rawValue * statusCount
            guard (0..<statusCount).contains(where: { merged[base + $0] != 0 }) else { continue }
            if !firstRoute { out.append(UInt8(ascii: ",")) }
            firstRoute = false
            out.jsonString(route.key)
            out.lit(":{")
            var firstStatus = true
            for s in 0..<statusCount where merged[base + s] != 0 {
                if !firstStatus { out.append(UInt8(ascii: ",")) }
                firstStatus = false
                out.append(UInt8(ascii: "\""))
                out.int(s + statusBase)
                out.lit("\":")
                out.int(Int(merged[base + s]))
            }
            out.append(UInt8(ascii: "}"))
        }
        out.lit("}}")
        return out.bytes
    }
}
