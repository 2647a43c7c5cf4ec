import CLua
import CLuaShim

/// A yield frame on a coroutine's stack, read by the protocol's named slots (CLuaShim's yield_protocol.h).
/// Reading never raises: only lua_to* calls, which do not longjmp.
struct Frame {
    let co: OpaquePointer
    /// Stack index of slot 1.
    let base: Int32
    /// How many values the frame has.
    let count: Int32

    /// The frame of `nres` values that lua_resume left on top of `co`'s stack.
    @inline(__always)
    init(_ co: OpaquePointer, results nres: Int32) {
        self.co = co
        base = lua_gettop(co) - nres + 1
        count = nres
    }

    /// An LL_OP_HTTP frame that is a redirect hop of the previous request (LL_SLOT_FOLLOWS).
    @inline(__always)
    var follows: Bool { count >= Int32(LL_SLOT_FOLLOWS) && lua_toboolean(co, index(LL_SLOT_FOLLOWS)) != 0 }

    @inline(__always)
    func index(_ slot: Int) -> Int32 { base + Int32(slot) - 1 }

    var op: Int { integer(LL_SLOT_OP) }

    @inline(__always)
    func integer(_ slot: Int) -> Int { Int(lua_tointegerx(co, index(slot), nil)) }

    /// The number in `slot`, or nil when it holds none.
    @inline(__always)
    func number(_ slot: Int) -> Double? {
        var isNumber: Int32 = 0
        let v = lua_tonumberx(co, index(slot), &isNumber)
        return isNumber != 0 ? v : nil
    }

    /// The string in `slot` (Lua owns it until the frame is popped), and its length; nil when none.
    @inline(__always)
    func string(_ slot: Int, _ length: inout Int) -> UnsafePointer<CChar>? {
        ll_tostring(co, index(slot), &length)
    }

    func text(_ slot: Int) -> String? {
        var length = 0
        return string(slot, &length).map { String(cString: $0) }
    }

    @inline(__always)
    func type(_ slot: Int) -> Int32 { lua_type(co, index(slot)) }

    /// Lua's truth of `slot`: false only for nil and false.
    @inline(__always)
    func bool(_ slot: Int) -> Bool { lua_toboolean(co, index(slot)) != 0 }

    /// Drops the frame from the coroutine's stack.
    @inline(__always)
    func pop() { lua_settop(co, base - 1) }
}
