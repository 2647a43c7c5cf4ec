// swift-tools-version: 6.0
import PackageDescription

// Release builds of the engine skip Swift's dynamic exclusivity checks: the Worker is a class whose fields the
// request path touches many times, and the checks cost ~1,300 instructions per request (callgrind, -n 30000:
// Worker.run 483.0M with them, 444.6M without). -Ounchecked is not used: it saved only ~40 instructions per
// request (443.5M) and would remove the overflow and bounds traps from the raw-pointer code.
let engineFlags: [SwiftSetting] = [
    .unsafeFlags(["-enforce-exclusivity=unchecked", "-wmo"], .when(configuration: .release)),
]

let package = Package(
    name: "luaload",
    products: [
        .executable(name: "luaload", targets: ["luaload"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
    ],
    targets: [
        .systemLibrary(name: "CLua", pkgConfig: "lua5.4", providers: [.apt(["liblua5.4-dev"])]),
        .systemLibrary(name: "CHTTPParser", providers: [.apt(["libhttp-parser-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CSnappy", pkgConfig: "snappy", providers: [.apt(["libsnappy-dev"])]),
        .systemLibrary(name: "CNGHTTP2", pkgConfig: "libnghttp2", providers: [.apt(["libnghttp2-dev"])]),
        .target(name: "CPosix"),
        // ClientResponseParser's 16-byte scans: SSE2 intrinsics, static inline in include/httpscan.h.
        .target(name: "CHTTPScan"),
        .target(name: "CTLSShim", dependencies: ["COpenSSL"]),
        .target(
            name: "CLuaShim",
            dependencies: ["CLua"],
            cSettings: [.unsafeFlags(["-I/usr/include/lua5.4"])],
            linkerSettings: [.linkedLibrary("lua5.4-cjson")]
        ),
        // The event-loop layer: epoll, timers, the clock, syscall wrappers. Knows nothing of HTTP or Lua.
        .target(name: "LuaLoadLoop", dependencies: ["CPosix"], swiftSettings: engineFlags),
        // What the engine and the built-in target share of HTTP itself (status reason phrases).
        .target(name: "LuaLoadHTTP", swiftSettings: engineFlags),
        .target(
            name: "LuaLoadCore",
            dependencies: [
                "LuaLoadLoop", "LuaLoadHTTP", "CPosix", "CLua", "CLuaShim", "CHTTPParser", "CHTTPScan", "COpenSSL", "CTLSShim", "CZlib", "CChartJS", "CNGHTTP2",
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            // The prelude's Lua chunks, compiled into the binary as byte arrays (PackageResources.*_lua).
            // `luaload wrk` runs wrk's API (Lua/wrk/) instead of the model and runner.
            resources: ["json", "helpers", "url", "cookies", "options", "http", "waits", "data", "model", "runner", "checks", "metrics", "scenarios", "profile",
                        "wrk/wrk", "wrk/wrk_runner"].map { .embedInCode("Lua/\($0).lua") },
            swiftSettings: engineFlags
        ),
        // The built-in target server (`luaload serve`): its own HTTP/1.1 on the event-loop layer, nothing of the engine.
        .target(name: "LuaLoadServe", dependencies: ["LuaLoadLoop", "LuaLoadHTTP", "CPosix"], exclude: ["README.md"], swiftSettings: engineFlags),
        // Chart.js from Debian's libjs-chart.js, embedded with .incbin at build time (the --web page, the HTML report).
        .target(name: "CChartJS"),
        // The live server (--web, /metrics): HTTP/1.1 on its own thread and loop, routes as closures, SSE, token.
        // Knows nothing of the engine: the Runner's snapshot reaches it through what the routes capture.
        .target(name: "LuaLoadLive", dependencies: ["LuaLoadLoop", "LuaLoadHTTP", "CPosix"]),
        // Metrics for Prometheus (docs/prometheus.md): series from the Runner's once-a-second snapshot, the
        // text exposition on a LiveServer, remote write (our protobuf encoder, Debian's snappy) on a thread of its own.
        .target(name: "LuaLoadMetrics", dependencies: ["LuaLoadCore", "LuaLoadLive", "LuaLoadLoop", "CSnappy", "CPosix",
                                                       .product(name: "Histogram", package: "hdrhistogram-swift")]),
        // --web: the dashboard and Locust's web API, fed by the Runner's once-a-second tick.
        .target(name: "LuaLoadWeb", dependencies: ["LuaLoadCore", "LuaLoadLive", "CChartJS",
                                                   .product(name: "Histogram", package: "hdrhistogram-swift")]),
        .executableTarget(
            name: "luaload",
            dependencies: ["LuaLoadCore", "LuaLoadServe", "LuaLoadLive", "LuaLoadWeb", "LuaLoadMetrics", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: engineFlags
        ),
        // Lua/ holds Lua-level tests of the prelude, read from the source tree by LuaPreludeTests.
        .testTarget(name: "LuaLoadCoreTests", dependencies: ["LuaLoadCore", "LuaLoadMetrics", "LuaLoadWeb", "LuaLoadLoop", "LuaLoadServe", "CLua", "CLuaShim"], exclude: ["Lua"]),
        .testTarget(name: "LuaLoadServeTests", dependencies: ["LuaLoadServe", "LuaLoadLoop"]),
        .testTarget(name: "LuaLoadLiveTests", dependencies: ["LuaLoadLive", "LuaLoadLoop", "LuaLoadHTTP"]),
    ],
    // Threads here are pthreads that own their data outright; Swift 6's Sendable checking adds nothing but noise.
    swiftLanguageModes: [.v5]
)
