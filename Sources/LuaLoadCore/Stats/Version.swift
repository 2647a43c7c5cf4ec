import CLuaShim

/// luaload's version (`lualoadversion.h`, shared with the prelude's default User-Agent).
public let lualoadVersion = LUALOAD_VERSION
