/// Idle and header-read timeouts, on the connection's one timer (id slot + 1) while it is neither delayed nor draining.
///
/// Nothing here runs per request: reads and sends only stamp `lastActive` with the loop's clock. The timer stays
/// armed at whatever deadline it was given; when it fires early (the client was active since), it is re-armed for
/// the real deadline, so a busy keep-alive connection costs one heap operation per idle period, not per request.
extension ServeWorker {
    /// When this connection times out, by its state now; nil when no timeout applies (both set to 0).
    func timeoutDeadline(_ c: ServeConnection) -> UInt64? {
        let o = shared.options
        if c.headSince != 0 && o.headerTimeoutMicros > 0 { return c.headSince + o.headerTimeoutMicros }
        if o.idleTimeoutMicros > 0 { return c.lastActive + o.idleTimeoutMicros }
        return nil
    }

    /// Arms the connection's timer for its timeout, unless the timer now serves a delay or a linger.
    func watch(_ c: ServeConnection) {
        guard c.fd >= 0, !c.paused, !c.draining, let deadline = timeoutDeadline(c) else { return }
        timers.arm(c.slot + 1, at: deadline)
    }

    /// A request head began but is not complete: its clock starts now, and the timer moves in place to its
    /// deadline (which may be earlier than the idle one it held). Only split heads come here.
    func headStarted(_ c: ServeConnection) {
        guard c.headSince == 0 else { return }
        c.headSince = now
        watch(c)
    }

    /// The timer fired on a waiting connection: close it if its deadline has truly passed (the caller re-arms
    /// it otherwise). A request under way — a partial head, or a head whose body stalls — is answered 408 first;
    /// a connection between requests is closed silently, since a 408 there could pass for the answer to the
    /// client's next request.
    func enforceTimeouts(_ c: ServeConnection) {
        guard let deadline = timeoutDeadline(c), deadline <= now else { return }
        if c.headSince != 0 || c.head != nil {
            answerAndClose(c, 408, "request not received in time")
            service(c)  // sends it, then half-closes and lingers as for any closing answer
        } else {
            close(c)
        }
    }
}
