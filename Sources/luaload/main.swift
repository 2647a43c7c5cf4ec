import LuaLoadCore
print("luaload")
