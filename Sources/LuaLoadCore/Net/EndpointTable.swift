/// A worker's endpoints: the default one (-H or the script's `host`), each class's own `host`, and the
/// `scheme://authority` of every absolute URL met so far, each resolved once. Connections and requests keep
/// an endpoint's index.
struct EndpointTable {
    /// Whether an endpoint's address is known.
    enum Resolution: UInt8 {
        case unresolved   // not asked yet
        case pending      // the resolver thread is on it
        case resolved
        case failed
    }

    private var endpoints: [Endpoint] = []
    private var resolution: [Resolution] = []
    /// "scheme://authority" of absolute URLs → index.
    private var byAuthority: [String: Int32] = [:]
    /// Class → the endpoint of its relative paths, -1: none.
    private var classEndpoint: [Int32] = []
    private let defaultIndex: Int32

    init(default defaultEndpoint: Endpoint?, classes: [Endpoint?]) {
        defaultIndex = defaultEndpoint != nil ? 0 : -1
        if let ep = defaultEndpoint { append(ep) }
        for ep in classes {
            if let ep {
                classEndpoint.append(Int32(endpoints.count))
                append(ep)
            } else {
                classEndpoint.append(defaultIndex)
            }
        }
    }

    private mutating func append(_ ep: Endpoint) {
        endpoints.append(ep)
        resolution.append(ep.addressLength > 0 ? .resolved : .unresolved)
    }

    subscript(_ i: Int32) -> Endpoint {
        @inline(__always) get { endpoints[Int(i)] }
    }

    /// Where a class's relative paths go; -1 when nowhere.
    @inline(__always)
    func forRelativePath(ofClass c: Int32) -> Int32 {
        Int(c) < classEndpoint.count ? classEndpoint[Int(c)] : defaultIndex
    }

    /// The endpoint of an absolute URL (added on first use; an IP literal is resolved at once, a name later,
    /// off the loop), and its target (path and query); -1 when the URL is malformed.
    mutating func forURL(_ url: UnsafePointer<CChar>, length: Int, target: inout UnsafePointer<CChar>, targetLength: inout Int) -> Int32 {
        // The end of "scheme://authority".
        var p = 0
        while p + 2 < length && !(url[p] == 0x3A && url[p + 1] == 0x2F && url[p + 2] == 0x2F) { p += 1 }
        p += 3
        while p < length && url[p] != 0x2F && url[p] != 0x3F { p += 1 }
        target = url + p
        targetLength = length - p
        let key = String(decoding: UnsafeRawBufferPointer(start: url, count: p), as: UTF8.self)
        if let known = byAuthority[key] { return known }
        guard var ep = Endpoint(url: key) else { return -1 }
        let index = Int32(endpoints.count)
        byAuthority[key] = index
        if ep.hostIsIP { _ = ep.resolve() }   // numeric: no lookup, no wait
        append(ep)
        if ep.hostIsIP && ep.addressLength == 0 { resolution[Int(index)] = .failed }
        return index
    }

    @inline(__always)
    func state(_ i: Int32) -> Resolution { resolution[Int(i)] }

    mutating func markPending(_ i: Int32) { resolution[Int(i)] = .pending }

    /// The resolver's answer for endpoint `i`.
    mutating func settle(_ i: Int32, with answer: Endpoint, failed: Bool) {
        if failed {
            resolution[Int(i)] = .failed
        } else {
            endpoints[Int(i)] = answer
            resolution[Int(i)] = .resolved
        }
    }
}
