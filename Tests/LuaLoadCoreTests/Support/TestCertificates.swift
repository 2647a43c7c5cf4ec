import Foundation

/// A throwaway CA (`ca.crt`, `ca.key`) and leaf certificates it signs (`NAME.crt`, `NAME.key`), made with the
/// openssl CLI in `dir`: EC P-256, valid two days, for TLS servers in tests.
enum TestCertificates {
    /// `leaves`: (name, subjectAltName such as "DNS:localhost,IP:127.0.0.1").
    static func make(in dir: String, leaves: [(name: String, san: String)]) throws {
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try openssl(dir, ["req", "-x509"] + ec + ["-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=luaload test ca",
                          "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
        for (name, san) in leaves {
            try openssl(dir, ["req", "-new"] + ec + ["-keyout", "\(name).key", "-out", "\(name).csr", "-subj", "/CN=\(name)"])
            try "subjectAltName=\(san)\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
                .write(toFile: "\(dir)/\(name).ext", atomically: true, encoding: .utf8)
            try openssl(dir, ["x509", "-req", "-in", "\(name).csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                              "-days", "2", "-out", "\(name).crt", "-extfile", "\(name).ext"])
        }
    }

    private static func openssl(_ dir: String, _ args: [String]) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        p.arguments = args
        p.currentDirectoryURL = URL(fileURLWithPath: dir)
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        let message = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw NSError(domain: "TestCertificates", code: Int(p.terminationStatus),
                          userInfo: [NSLocalizedDescriptionKey: "openssl \(args.joined(separator: " ")): \(String(decoding: message, as: UTF8.self))"])
        }
    }
}
