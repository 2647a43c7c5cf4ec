import Foundation

/// Throwaway CAs (`NAME.crt`, `NAME.key`; "ca" by default) and leaf certificates they sign (`NAME.crt`,
/// `NAME.key`), made with the openssl CLI in `dir`: EC P-256, for TLS servers (and clients) in tests.
enum TestCertificates {
    struct Leaf {
        var name: String
        /// subjectAltName, such as "DNS:localhost,IP:127.0.0.1".
        var san: String
        var issuer = "ca"
        /// -1: expired at once.
        var days = 2
        var usage = "serverAuth"
    }

    /// `leaves`: (name, subjectAltName) server certificates valid two days, signed by "ca".
    static func make(in dir: String, leaves: [(name: String, san: String)]) throws {
        try make(in: dir, cas: ["ca"], leaves: leaves.map { Leaf(name: $0.name, san: $0.san) })
    }

    static func make(in dir: String, cas: [String], leaves: [Leaf]) throws {
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        for ca in cas {
            try openssl(dir, ["req", "-x509"] + ec + ["-keyout", "\(ca).key", "-out", "\(ca).crt", "-days", "2", "-subj", "/CN=luaload test \(ca)",
                              "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
        }
        for leaf in leaves {
            let name = leaf.name
            try openssl(dir, ["req", "-new"] + ec + ["-keyout", "\(name).key", "-out", "\(name).csr", "-subj", "/CN=\(name)"])
            try "subjectAltName=\(leaf.san)\nbasicConstraints=CA:FALSE\nextendedKeyUsage=\(leaf.usage)\n"
                .write(toFile: "\(dir)/\(name).ext", atomically: true, encoding: .utf8)
            try openssl(dir, ["x509", "-req", "-in", "\(name).csr", "-CA", "\(leaf.issuer).crt", "-CAkey", "\(leaf.issuer).key",
                              "-CAcreateserial", "-days", "\(leaf.days)", "-out", "\(name).crt", "-extfile", "\(name).ext"])
        }
    }

    private static func openssl(_ dir: String, _ args: [String]) throws {
        let r = try runProcess("/usr/bin/openssl", args, cwd: dir)
        guard r.code == 0 else {
            throw NSError(domain: "TestCertificates", code: Int(r.code),
                          userInfo: [NSLocalizedDescriptionKey: "openssl \(args.joined(separator: " ")): \(r.stderr)"])
        }
    }
}
