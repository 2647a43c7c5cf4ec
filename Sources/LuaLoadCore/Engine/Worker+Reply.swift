import CLua
import CLuaShim

/// The reply to a VU's request frame, pushed on its coroutine's stack before it is resumed.
extension SessionWorker {
    /// Pushes the reply to LL_OP_HTTP in LL_REPLY_* order: status, elapsed ms, body, error text, raw head, flags.
    @inline(__always)
    func pushReply(_ i: Int, _ co: OpaquePointer, status: Int, micros: UInt64, body: ByteBuffer, error: Failure?, head: ByteBuffer, flags: Int) {
        lua_pushinteger(co, lua_Integer(status))                                     // LL_REPLY_STATUS
        lua_pushnumber(co, Double(micros) / 1000)                                    // LL_REPLY_ELAPSED
        if body.count > 0 { pushKept(co, body, slot: 2 * i + 2) } else { lua_pushstring(co, "") }   // LL_REPLY_BODY
        if let error { pushText(co, error) } else { lua_pushnil(co) }                // LL_REPLY_ERROR
        if head.count > 0 { pushKept(co, head, slot: 2 * i + 1) } else { lua_pushnil(co) }         // LL_REPLY_HEADERS
        lua_pushinteger(co, lua_Integer(flags))                                      // LL_REPLY_FLAGS
    }

    /// Long strings (over 40 bytes; Lua interns shorter ones itself) up to 16 KB: the VU's last one again
    /// when the bytes are the same (`ll_push_kept`), which spares an allocation, a copy and its collection.
    /// Bigger bodies are not kept, so a VU never holds a download beyond its own response's life.
    @inline(__always)
    func pushKept(_ co: OpaquePointer, _ bytes: ByteBuffer, slot: Int) {
        guard bytes.count > 40 && bytes.count <= 16_384 else { return pushBytes(co, bytes) }
        ll_push_kept(co, script.keptRef, lua_Integer(slot), UnsafeRawPointer(bytes.base!).assumingMemoryBound(to: CChar.self), bytes.count)
    }

    @inline(__always)
    func pushBytes(_ co: OpaquePointer, _ bytes: ByteBuffer) {
        lua_pushlstring(co, UnsafeRawPointer(bytes.base!).assumingMemoryBound(to: CChar.self), bytes.count)
    }

    /// A failure's text, made once per thread and kept as a C string.
    func pushText(_ co: OpaquePointer, _ failure: Failure) {
        if failureTexts[failure] == nil {
            failureTexts[failure] = ContiguousArray(failure.text(tlsMessages: stats.tlsMessages).utf8CString)
        }
        failureTexts[failure]!.withUnsafeBufferPointer { _ = lua_pushstring(co, $0.baseAddress) }
    }
}
