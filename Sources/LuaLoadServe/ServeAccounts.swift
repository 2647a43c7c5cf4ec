/// The fixed test accounts (from the Locust guide) besides "any email with password `password`".
enum ServeAccounts {
    static let fixed: [(email: StaticString, password: StaticString, name: StaticString)] = [
        ("loadtest.user@example.com", "SuperSecurePass123!", "Load Test User"),
        ("uploader@example.com", "UploadFlowPass456!", "Upload Flow User"),
    ]
    /// Accepted by POST /api/v1/events/ingest in addition to login-issued tokens.
    static let ingestToken: StaticString = "lf_ingest_test_token_abc123"

    static func check(email: [UInt8], password: [UInt8]) -> Bool {
        for acct in fixed where acct.email.withUTF8Buffer({ email.elementsEqual($0) }) {
            return acct.password.withUTF8Buffer { password.elementsEqual($0) }
        }
        // Any plausible address ("x@y") with the password "password".
        guard let at = email.firstIndex(of: UInt8(ascii: "@")), at > 0, at < email.count - 1, email.count <= 254 else { return false }
        return password.elementsEqual("password".utf8)
    }
}

/// The demo projects: ids 101...112 (the guide's scripts pick from 101-104).
enum ServeProjects {
    static let firstID = 101
    static let names: [StaticString] = [
        "edge-api", "checkout-service", "analytics-pipeline", "mobile-backend", "marketing-site", "search-index",
        "billing-worker", "auth-gateway", "media-transcoder", "notifications", "admin-console", "data-export",
    ]
    static var ids: ClosedRange<Int> { firstID...(firstID + names.count - 1) }
}
