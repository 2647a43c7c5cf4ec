import Synchronization

/// What all serve threads share: settings, the listening socket, the stop flag and the little state that must be global.
final class ServeShared: Sendable {
    let options: ServeOptions
    let listenFD: Int32
    let stopping = Atomic<Bool>(false)
    let signer: TokenSigner
    let uploads = UploadStore()
    /// One table per thread, read together by /__stats.
    let stats: [ServeStats]

    init(options: ServeOptions, listenFD: Int32, signer: TokenSigner, stats: [ServeStats]) {
        self.options = options
        self.listenFD = listenFD
        self.signer = signer
        self.stats = stats
    }
}
