import CLua
import CLuaShim

/// A JSON document decoded by lua-cjson (in a Lua state of its own) and copied into Swift values, for
/// `luaload merge`. Reading a Lua table here uses only calls that cannot raise (lua_next over a fresh
/// table, lua_type, lua_to*); the decoding itself runs under lua_pcall in the shim.
public indirect enum JSONTree {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONTree])
    /// Also an empty array: cjson decodes `{}` and `[]` alike.
    case object([String: JSONTree])

    public struct DecodeError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Decodes one JSON text; the error is cjson's message.
    public static func decode(_ text: String) throws -> JSONTree {
        guard let L = ll_newstate() else { throw DecodeError(description: "cannot create a Lua state") }
        defer { ll_close(L) }
        var text = text
        let rc = text.withUTF8 { ll_json_decode(L, $0.baseAddress, $0.count) }
        guard rc == 0 else {
            var len = 0
            let message = ll_tostring(L, -1, &len).map { String(cString: $0) } ?? "not JSON"
            throw DecodeError(description: message)
        }
        guard let tree = read(L, -1, depth: 0) else { throw DecodeError(description: "nested too deeply") }
        return tree
    }

    /// The value at stack index `i` (negative: from the top), recursively.
    private static func read(_ L: OpaquePointer, _ i: Int32, depth: Int) -> JSONTree? {
        switch lua_type(L, i) {
        case LUA_TBOOLEAN: return .bool(lua_toboolean(L, i) != 0)
        case LUA_TNUMBER: return .number(lua_tonumberx(L, i, nil))
        case LUA_TSTRING:
            var len = 0
            let p = ll_tostring(L, i, &len)!
            return .string(String(decoding: UnsafeRawBufferPointer(start: p, count: len), as: UTF8.self))
        case LUA_TTABLE:
            guard depth < 64, lua_checkstack(L, 4) != 0 else { return nil }
            return readTable(L, i, depth: depth)
        default: return .null   // cjson.null is a light userdata
        }
    }

    private static func readTable(_ L: OpaquePointer, _ i: Int32, depth: Int) -> JSONTree? {
        let t = lua_absindex(L, i)
        var fields: [String: JSONTree] = [:]
        var items: [(Int, JSONTree)] = []
        lua_pushnil(L)
        while lua_next(L, t) != 0 {
            guard let value = read(L, -1, depth: depth + 1) else { ll_pop(L, 2); return nil }
            if lua_type(L, -2) == LUA_TNUMBER {
                items.append((Int(lua_tonumberx(L, -2, nil)), value))
            } else {
                var len = 0
                let p = ll_tostring(L, -2, &len)!   // a string key: lua_tolstring leaves it as it is
                fields[String(decoding: UnsafeRawBufferPointer(start: p, count: len), as: UTF8.self)] = value
            }
            ll_pop(L, 1)
        }
        if fields.isEmpty && !items.isEmpty { return .array(items.sorted { $0.0 < $1.0 }.map(\.1)) }
        return .object(fields)
    }

    public subscript(key: String) -> JSONTree? {
        if case .object(let f) = self { return f[key] }
        return nil
    }

    public var string: String? { if case .string(let s) = self { return s } else { return nil } }
    public var number: Double? { if case .number(let d) = self { return d } else { return nil } }
    public var int: Int? { number.flatMap { $0.isFinite && abs($0) < 9e15 ? Int($0) : nil } }
    public var array: [JSONTree] {
        switch self {
        case .array(let a): return a
        default: return []
        }
    }
    public var object: [String: JSONTree] { if case .object(let f) = self { return f } else { return [:] } }
}
