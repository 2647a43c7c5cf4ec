import LuaLoadHTTP
import LuaLoadLoop
#if canImport(Glibc)
import Glibc
#endif

/// The demo API (the routes of the Locust guide). Each handler writes its body into `body` and returns the status.
extension ServeWorker {
    static let maxUploadBytes = 100 * 1024 * 1024

    func handle(_ route: ServeRoute, _ req: ServeRequest) -> ServeReply {
        switch route {
        case .health:
            body.lit("{\"status\":\"ok\"}")
            return ServeReply(status: 200)
        case .root:
            body.lit("<!doctype html><html><head><title>luaload target</title></head><body><h1>luaload target server</h1><p>A demo SaaS API for load tests: GET /health, POST /api/v1/auth/login, GET /api/v1/projects, GET /api/v1/projects/{id}/metrics, GET /api/v1/me, POST /api/v1/events/ingest, POST /api/v1/uploads/presign, GET /api/v1/uploads. Counters: GET /__stats.</p></body></html>\n")
            return ServeReply(status: 200, contentType: "text/html; charset=utf-8")
        case .login: return login(req)
        case .me: return me(req)
        case .projects: return projects(req)
        case .metrics: return metrics(req)
        case .ingest: return ingest(req)
        case .presign: return presign(req)
        case .uploads: return uploads(req)
        case .other: return errorReply(404, "not found")
        }
    }

    // MARK: - Helpers

    /// The user (email) of a login-issued bearer token, or the 401 to answer.
    private func authenticate(_ req: ServeRequest) -> ([UInt8]?, ServeReply?) {
        guard let t = req.bearerToken else {
            return (nil, errorReply(401, "missing bearer token", allow: "WWW-Authenticate: Bearer\r\n"))
        }
        guard let email = shared.signer.verify(req.b, t) else {
            return (nil, errorReply(401, "invalid token", allow: "WWW-Authenticate: Bearer error=\"invalid_token\"\r\n"))
        }
        return (email, nil)
    }

    /// The body as a JSON object, or the 4xx to answer (content type, syntax, not an object).
    private func jsonBody(_ req: ServeRequest) -> (JSONValue?, ServeReply?) {
        let ct = req.head.contentType
        if !ct.isEmpty && !containsJSON(req.b, ct) {
            return (nil, errorReply(415, "content-type must be application/json"))
        }
        guard let v = JSONValue.parse(req.bodyBuffer) else { return (nil, errorReply(400, "body is not valid JSON")) }
        guard v.isObject else { return (nil, errorReply(400, "body must be a JSON object")) }
        return (v, nil)
    }

    private func containsJSON(_ b: UnsafePointer<UInt8>, _ r: Range<Int>) -> Bool {
        guard r.count >= 4 else { return false }
        for i in r.lowerBound...(r.upperBound - 4) where lowerEqual(b, i..<(i + 4), "json") { return true }
        return false
    }

    /// `{"error": "<prefix><name><suffix>"}`
    private func fieldError(_ status: Int, _ prefix: StaticString, _ name: StaticString, _ suffix: StaticString) -> ServeReply {
        body.removeAll(keepingCapacity: true)
        var msg = ByteWriter()
        msg.lit(prefix); msg.lit(name); msg.lit(suffix)
        body.lit("{\"error\":")
        body.jsonString(msg.bytes)
        body.append(UInt8(ascii: "}"))
        return ServeReply(status: status)
    }

    private func userID(_ email: [UInt8]) -> Int { Int(shared.signer.checksum(email) % 90_000) + 10_000 }

    // MARK: - Routes

    private func login(_ req: ServeRequest) -> ServeReply {
        let (json, err) = jsonBody(req)
        guard let json else { return err! }
        guard let email = json["email"]?.stringBytes, let password = json["password"]?.stringBytes, !email.isEmpty else {
            return errorReply(400, "email and password (strings) are required")
        }
        guard ServeAccounts.check(email: email, password: password) else { return errorReply(401, "invalid credentials") }
        let token = shared.signer.issue(email: email)
        body.lit("{\"access_token\":")
        body.jsonString(token)
        body.lit(",\"token_type\":\"bearer\",\"expires_in\":3600,\"user\":{\"id\":")
        body.int(userID(email))
        body.lit(",\"email\":")
        body.jsonString(email)
        body.lit("}}")
        return ServeReply(status: 200)
    }

    private func me(_ req: ServeRequest) -> ServeReply {
        let (user, err) = authenticate(req)
        guard let email = user else { return err! }
        body.lit("{\"id\":")
        body.int(userID(email))
        body.lit(",\"email\":")
        body.jsonString(email)
        body.lit(",\"name\":")
        if let acct = ServeAccounts.fixed.first(where: { a in a.email.withUTF8Buffer { email.elementsEqual($0) } }) {
            body.jsonString(acct.name)
        } else {
            body.jsonString(email.prefix(while: { $0 != UInt8(ascii: "@") }))
        }
        body.lit(",\"plan\":\"pro\",\"projects\":")
        body.int(ServeProjects.names.count)
        body.append(UInt8(ascii: "}"))
        return ServeReply(status: 200)
    }

    private func projects(_ req: ServeRequest) -> ServeReply {
        let (user, err) = authenticate(req)
        guard user != nil else { return err! }
        let regions: [StaticString] = ["iad", "ord", "lhr", "fra", "sin"]
        body.lit("{\"items\":[")
        for (k, name) in ServeProjects.names.enumerated() {
            if k > 0 { body.append(UInt8(ascii: ",")) }
            body.lit("{\"id\":")
            body.int(ServeProjects.firstID + k)
            body.lit(",\"name\":")
            body.jsonString(name)
            body.lit(",\"region\":")
            body.jsonString(regions[k % regions.count])
            body.append(UInt8(ascii: "}"))
        }
        body.lit("],\"count\":")
        body.int(ServeProjects.names.count)
        body.append(UInt8(ascii: "}"))
        return ServeReply(status: 200)
    }

    /// "24h" → seconds; units m, h, d. nil if malformed.
    private func span(_ req: ServeRequest, _ r: Range<Int>) -> Int? {
        guard r.count >= 2, r.count <= 6 else { return nil }
        var n = 0
        for i in r.lowerBound..<(r.upperBound - 1) {
            guard req.b[i] >= 48, req.b[i] <= 57 else { return nil }
            n = n * 10 + Int(req.b[i] - 48)
        }
        guard n > 0 else { return nil }
        switch req.b[r.upperBound - 1] {
        case UInt8(ascii: "m"): return n * 60
        case UInt8(ascii: "h"): return n * 3600
        case UInt8(ascii: "d"): return n * 86400
        default: return nil
        }
    }

    private func metrics(_ req: ServeRequest) -> ServeReply {
        let (user, err) = authenticate(req)
        guard user != nil else { return err! }
        let idRange = ServeRouter.metricsProjectID(req.b, req.path)!
        var id = 0
        for i in idRange {
            guard req.b[i] >= 48, req.b[i] <= 57, id < 1_000_000 else { return errorReply(404, "project not found") }
            id = id * 10 + Int(req.b[i] - 48)
        }
        guard ServeProjects.ids.contains(id) else { return errorReply(404, "project not found") }
        let rangeRaw = req.queryValue("range")
        let granRaw = req.queryValue("granularity")
        guard let range = rangeRaw.map({ span(req, $0) }) ?? 86400, range <= 90 * 86400 else {
            return errorReply(400, "range must look like 1h, 24h, 7d (at most 90d)")
        }
        guard let gran = granRaw.map({ span(req, $0) }) ?? 300 else {
            return errorReply(400, "granularity must look like 1m, 5m, 1h, 1d")
        }
        guard gran <= range else { return errorReply(400, "granularity must not exceed range") }
        let points = range / gran
        guard points <= 2880 else { return errorReply(400, "range/granularity gives too many points (max 2880)") }

        let now = Int(wallClockSeconds())
        let end = now - now % gran
        body.lit("{\"project_id\":")
        body.int(id)
        body.lit(",\"range\":")
        if let r = rangeRaw { body.jsonString(UnsafeBufferPointer(start: req.b + r.lowerBound, count: r.count)) } else { body.lit("\"24h\"") }
        body.lit(",\"granularity\":")
        if let g = granRaw { body.jsonString(UnsafeBufferPointer(start: req.b + g.lowerBound, count: g.count)) } else { body.lit("\"5m\"") }
        body.lit(",\"points\":[")
        for k in 0..<points {
            let t = end - (points - 1 - k) * gran
            // Stable pseudo-data: the same project and bucket always give the same numbers.
            let h = mix64(UInt64(id) &* 0x1000_0001 ^ UInt64(t / gran))
            if k > 0 { body.append(UInt8(ascii: ",")) }
            body.lit("{\"t\":")
            body.int(t)
            body.lit(",\"requests\":")
            body.int(500 + Int(h % 1500))
            body.lit(",\"errors\":")
            body.int(Int((h >> 16) % 12))
            body.lit(",\"p50_ms\":")
            body.fixed(20 + Double((h >> 24) % 4000) / 100, decimals: 1)
            body.lit(",\"p95_ms\":")
            body.fixed(80 + Double((h >> 40) % 30000) / 100, decimals: 1)
            body.append(UInt8(ascii: "}"))
        }
        body.lit("]}")
        return ServeReply(status: 200)
    }

    private func ingest(_ req: ServeRequest) -> ServeReply {
        // Either the fixed ingest token or any login-issued token.
        guard let t = req.bearerToken else {
            return errorReply(401, "missing bearer token", allow: "WWW-Authenticate: Bearer\r\n")
        }
        if !bytesEqual(req.b, t, ServeAccounts.ingestToken) && shared.signer.verify(req.b, t) == nil {
            return errorReply(401, "invalid token", allow: "WWW-Authenticate: Bearer error=\"invalid_token\"\r\n")
        }
        let (json, err) = jsonBody(req)
        guard let json else { return err! }
        let required: [StaticString] = ["event_id", "tenant_id", "event_type", "timestamp"]
        for name in required {
            guard let v = json[name] else { return fieldError(400, "missing field: ", name, "") }
            guard let s = v.stringBytes else { return fieldError(400, "field ", name, " must be a string") }
            if s.isEmpty { return fieldError(400, "field ", name, " must not be empty") }
        }
        if !isISODateTime(json["timestamp"]!.stringBytes!) {
            return errorReply(400, "timestamp must be an ISO 8601 date-time (2026-11-26T17:00:00Z)")
        }
        if let p = json["properties"], !p.isObject { return errorReply(400, "properties must be an object") }
        body.lit("{\"accepted\":true,\"event_id\":")
        body.jsonString(json["event_id"]!.stringBytes!)
        body.append(UInt8(ascii: "}"))
        return ServeReply(status: 202)
    }

    /// "YYYY-MM-DDTHH:MM:SS" at the start (fraction and zone may follow).
    private func isISODateTime(_ s: [UInt8]) -> Bool {
        let shape = Array("dddd-dd-ddTdd:dd:dd".utf8)
        guard s.count >= shape.count else { return false }
        for (k, p) in shape.enumerated() {
            let c = s[k]
            if p == UInt8(ascii: "d") {
                guard c >= 48, c <= 57 else { return false }
            } else if p == UInt8(ascii: "T") {
                guard c == UInt8(ascii: "T") || c == UInt8(ascii: "t") || c == 0x20 else { return false }
            } else if c != p {
                return false
            }
        }
        return true
    }

    private func presign(_ req: ServeRequest) -> ServeReply {
        let (user, authErr) = authenticate(req)
        guard let owner = user else { return authErr! }
        let (json, err) = jsonBody(req)
        guard let json else { return err! }
        guard let filename = json["filename"]?.stringBytes, !filename.isEmpty, filename.count <= 255 else {
            return errorReply(400, "filename must be a non-empty string (at most 255 bytes)")
        }
        guard let contentType = json["content_type"]?.stringBytes, !contentType.isEmpty else {
            return errorReply(400, "content_type must be a non-empty string")
        }
        guard let size = json["size_bytes"]?.integer, size > 0 else {
            return errorReply(400, "size_bytes must be a positive integer")
        }
        guard size <= ServeWorker.maxUploadBytes else {
            return errorReply(413, "size_bytes exceeds the maximum of 104857600 (100 MiB)")
        }
        var folder: [UInt8] = Array("uploads".utf8)
        if let f = json["folder"] {
            guard let fb = f.stringBytes, !fb.isEmpty, fb.count <= 255 else { return errorReply(400, "folder must be a non-empty string") }
            folder = fb
        }
        var id = ByteWriter()
        id.lit("upl_")
        id.hex64(rng.next())
        let fileID = id.bytes
        let signature = shared.signer.checksum(fileID)
        shared.uploads.add(UploadRecord(fileID: fileID, owner: owner, filename: filename, contentType: contentType,
                                        folder: folder, sizeBytes: size, createdMicros: monotonicMicros(),
                                        createdWall: wallClockSeconds()))
        var url = ByteWriter()
        url.lit("https://uploads.luaload.test/")
        percentEncode(folder, into: &url)
        url.append(UInt8(ascii: "/"))
        url.append(contentsOf: fileID)
        url.append(UInt8(ascii: "/"))
        percentEncode(filename, into: &url)
        url.lit("?X-Expires=900&X-Signature=")
        url.hex64(signature)
        body.lit("{\"upload_url\":")
        body.jsonString(url.bytes)
        body.lit(",\"file_id\":")
        body.jsonString(fileID)
        body.lit(",\"expires_in\":900,\"method\":\"PUT\",\"headers\":{\"Content-Type\":")
        body.jsonString(contentType)
        body.lit("}}")
        return ServeReply(status: 200)
    }

    private func percentEncode(_ s: [UInt8], into out: inout ByteWriter) {
        for c in s {
            switch c {
            case 48...57, 65...90, 97...122, UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.append(c)
            default:
                out.append(UInt8(ascii: "%"))
                let hi = c >> 4, lo = c & 15
                out.append(hi < 10 ? 48 + hi : 55 + hi)
                out.append(lo < 10 ? 48 + lo : 55 + lo)
            }
        }
    }

    private func uploads(_ req: ServeRequest) -> ServeReply {
        let (user, err) = authenticate(req)
        guard let owner = user else { return err! }
        var limit = 20
        if let l = req.queryInt("limit") {
            guard l >= 1, l <= 100 else { return errorReply(400, "limit must be an integer from 1 to 100") }
            limit = l
        }
        var pending = true, complete = true
        if let sr = req.queryValue("status") {
            pending = false; complete = false
            for part in req.decoded(sr).split(separator: UInt8(ascii: ","), omittingEmptySubsequences: true) {
                if part.elementsEqual("pending".utf8) { pending = true }
                else if part.elementsEqual("complete".utf8) { complete = true }
                else { return errorReply(400, "status must be a comma-separated list of pending, complete") }
            }
        }
        let items = shared.uploads.list(owner: owner, limit: limit, now: monotonicMicros(),
                                        includePending: pending, includeComplete: complete)
        body.lit("{\"items\":[")
        for (k, (r, isComplete)) in items.enumerated() {
            if k > 0 { body.append(UInt8(ascii: ",")) }
            body.lit("{\"file_id\":"); body.jsonString(r.fileID)
            body.lit(",\"filename\":"); body.jsonString(r.filename)
            body.lit(",\"content_type\":"); body.jsonString(r.contentType)
            body.lit(",\"folder\":"); body.jsonString(r.folder)
            body.lit(",\"size_bytes\":"); body.int(r.sizeBytes)
            body.lit(",\"status\":"); body.jsonString(isComplete ? "complete" : "pending")
            body.lit(",\"created_at\":\""); body.iso8601(r.createdWall); body.append(UInt8(ascii: "\""))
            body.append(UInt8(ascii: "}"))
        }
        body.lit("],\"count\":")
        body.int(items.count)
        body.lit(",\"limit\":")
        body.int(limit)
        body.append(UInt8(ascii: "}"))
        return ServeReply(status: 200)
    }
}
