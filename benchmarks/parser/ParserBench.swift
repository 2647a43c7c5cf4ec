// Micro-benchmark: one typical nginx response parsed N times by ClientResponseParser or by the http_parser
// wrapper (ResponseParser), for callgrind's instruction counts (see run.sh).
#if canImport(Glibc)
import Glibc
#endif

let response = Array(("HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Mon, 06 Jan 2025 10:00:00 GMT\r\n"
    + "Content-Type: application/octet-stream\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nOK").utf8)

@inline(never)
func runMine(_ n: Int) -> Int {
    let p = UnsafeMutablePointer<ClientResponseParser>.allocate(capacity: 1)
    p.initialize(to: ClientResponseParser())
    var sum = 0
    response.withUnsafeBytes { bytes in
        for _ in 0..<n {
            p.pointee.reset(bodyless: false)
            guard p.pointee.feed(bytes.baseAddress!, bytes.count) == 0, p.pointee.complete else { fatalError("mine") }
            sum &+= p.pointee.status &+ p.pointee.body.count &+ p.pointee.head.count &+ (p.pointee.keepAlive ? 1 : 0)
        }
    }
    return sum
}

@inline(never)
func runHTTPParser(_ n: Int) -> Int {
    let p = UnsafeMutablePointer<ResponseParser>.allocate(capacity: 1)
    p.initialize(to: ResponseParser())
    p.pointee.bind(p)
    var sum = 0
    response.withUnsafeBytes { bytes in
        for _ in 0..<n {
            p.pointee.reset(bodyless: false)
            guard p.pointee.feed(bytes.baseAddress!, bytes.count) == 0, p.pointee.complete else { fatalError("http_parser") }
            sum &+= p.pointee.status &+ p.pointee.body.count &+ p.pointee.head.count &+ (p.pointee.keepAlive ? 1 : 0)
        }
    }
    return sum
}

@main
struct ParserBench {
    static func main() {
        let args = CommandLine.arguments
        let n = args.count > 2 ? Int(args[2])! : 100_000
        let sum = args.count > 1 && args[1] == "http_parser" ? runHTTPParser(n) : runMine(n)
        print(sum)
    }
}
