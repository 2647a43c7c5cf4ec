// swift-tools-version: 6.0
import PackageDescription

// The engine is compiled for speed in release builds: no exclusivity checks on the hot path.
let engineFlags: [SwiftSetting] = [
    .unsafeFlags(["-enforce-exclusivity=unchecked", "-Ounchecked", "-wmo"], .when(configuration: .release)),
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
        .target(name: "CPosix"),
        .target(name: "CTLSShim", dependencies: ["COpenSSL"]),
        .target(
            name: "CLuaShim",
            dependencies: ["CLua"],
            cSettings: [.unsafeFlags(["-I/usr/include/lua5.4"])],
            linkerSettings: [.linkedLibrary("lua5.4-cjson")]
        ),
        .target(
            name: "LuaLoadCore",
            dependencies: [
                "CPosix", "CLua", "CLuaShim", "CHTTPParser", "COpenSSL", "CTLSShim", "CZlib",
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            exclude: ["Serve/README.md"],
            // The prelude's Lua chunks, compiled into the binary as byte arrays (PackageResources.*_lua).
            resources: ["json", "helpers", "http", "waits", "model", "runner"].map { .embedInCode("Lua/\($0).lua") },
            swiftSettings: engineFlags
        ),
        .executableTarget(
            name: "luaload",
            dependencies: ["LuaLoadCore", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: engineFlags
        ),
        // Lua/ holds Lua-level tests of the prelude, read from the source tree by LuaPreludeTests.
        .testTarget(name: "LuaLoadCoreTests", dependencies: ["LuaLoadCore", "CLua", "CLuaShim"], exclude: ["Lua"]),
    ],
    // Threads here are pthreads that own their data outright; Swift 6's Sendable checking adds nothing but noise.
    swiftLanguageModes: [.v5]
)
