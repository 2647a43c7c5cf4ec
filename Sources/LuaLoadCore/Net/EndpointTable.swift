/// A worker's endpoints: the default one (-H or the script's `host`), each class's own `host`, and the
/// `scheme://authority` of every absolute URL met so far, each resolved once. Connections and requests keep
/// an endpoint's index.
struct EndpointTable {
    private var endpoints: [Endpoint] = []
    private var resolved: [Bool] = []
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
        resolved.append(ep.addressLength > 0)
    }

    subscript(_ i: Int32) -> Endpoint {
        @inline(__always) get { endpoints[Int(i)] }
    }

    /// Where a class's relative paths go; -1 when nowhere.
    @inline(__always)
    func forRelativePath(ofClass c: Int32) -> Int32 {
        Int(c) < classEndpoint.count ? classEndpoint[Int(c)] : defaultIndex
    }

    /// The endpoint of an absolute URL (added on first use, resolved then), and its target (path and query);
    /// -1 when the URL is malformed or its host does not resolve.
    mutating func forURL(_ url: UnsafePointer<CChar>, length: Int, target: inout UnsafePointer<CChar>, targetLength: inout Int) -> Int32 {
        // The end of "scheme://authority".
        var p = 0
        while p + 2 < length && !(url[p] == 0x3A && url[p + 1] == 0x2F && url[p + 2] == 0x2F) { p += 1 }
        p += 3
        while p < length && url[p] != 0x2F && url[p] != 0x3F { p += 1 }
        target = url + p
        targetLength = length - p
        let key = String(decoding: UnsafeRawBufferPointer(start: url, count: p), as: UTF8.self)
        if let known = byAuthority[key] { return resolved[Int(known)] ? known : -1 }
        let index = Int32(endpoints.count)
        byAuthority[key] = index
        guard let ep = Endpoint(url: key) else {
            append(Endpoint(url: "http://invalid")!)
            return -1
        }
        append(ep)
        return resolve(index) ? index : -1
    }

    /// Resolves the endpoint if it is not yet (blocking getaddrinfo: once per endpoint); false when it does not.
    @inline(__always)
    mutating func resolve(_ i: Int32) -> Bool {
        if resolved[Int(i)] { return true }
        resolved[Int(i)] = endpoints[Int(i)].resolve() == nil
        return resolved[Int(i)]
    }
}
