import CLua
import CLuaShim
import LuaLoadLoop
#if canImport(Glibc)
import Glibc
#endif

/// What an http.batch entry's redirect response is (LL_SLOT_BATCH_REDIRECTS): recorded as a response, a hop
/// the prelude follows with the next batch (counted as a redirect, as a plain request's hop is), or, past the
/// redirect limit, a response recorded as failed with the prelude's message.
enum BatchRedirects {
    case record
    case follow
    case fail(String)
}

/// Redirects inside a batch: the engine decides when the response ends whether it is a hop, by the same rule
/// the prelude follows (a 301/302/303/307/308 with a Location, and the entry's policy), so a hop is counted
/// once, as a redirect, before Lua sees it: recorded + abandoned + redirects = what the server saw.
extension SessionWorker where Session == HTTPSession {
    /// Entry fields of a batch frame for redirects: the chain's time so far, and the policy.
    func readRedirectFields(_ e: inout BatchEntry, _ frame: Frame, _ base: Int) {
        e.carried = frame.number(base + Int(LL_SLOT_FOLLOWS)).map { UInt64(($0 * 1000).rounded()) } ?? 0
        let slot = base + Int(LL_SLOT_BATCH_REDIRECTS)
        switch frame.type(slot) {
        case LUA_TBOOLEAN where frame.bool(slot): e.redirects = .follow
        case LUA_TSTRING: e.redirects = .fail(frame.text(slot) ?? "too many redirects")
        default: e.redirects = .record
        }
    }

    /// Entry `k`'s redirect response, `p`: true when it is not recorded by the default rule here: a hop (a
    /// redirect of its row, its wait apart when its latency is not one), or past the limit (recorded as failed
    /// with the prelude's message, as res:failure(msg) would).
    func batchRedirect(_ i: Int, _ k: Int, _ p: PendingOutcome) -> Bool {
        let e = vus[i].session.batch.entries[k]
        if case .record = e.redirects { return false }
        guard Self.hasLocation(e.head.bytes) else { return false }
        let row = Int(p.stat)
        switch e.redirects {
        case .fail(let message):
            if stats.uncorrected != nil { recordUncorrected(p) }
            record(p, failed: true)
            stats.custom[FailureKey(method: stats.rows[row].method, name: stats.rows[row].name, error: message), default: 0] += 1
        default:
            stats.rows[row].redirects += 1
            if p.waitIsLatency { stats.rows[row].phases.recordWaitApart(p.micros) }   // no latency of its own
        }
        return true
    }

    /// Whether a response head ("HTTP/1.1 302 Found\r\nLocation: …\r\n…") has a Location header (any case).
    static func hasLocation(_ head: UnsafeRawBufferPointer) -> Bool {
        guard let base = head.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return false }
        let end = base + head.count
        var p = UnsafePointer(base)
        while let nl = memchr(p, 0x0A, end - p)?.assumingMemoryBound(to: UInt8.self) {
            p = UnsafePointer(nl) + 1
            if p < end && HeadScan.starts(p, end, "location:") { return true }
        }
        return false
    }
}
