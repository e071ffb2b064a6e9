--[[
  Runs the plugin's Lua tests: lua5.4 lua/tests/run.lua lua/tests/test_*.lua (from the repository root).
  Each test file returns a list of {name, function}; a test fails by raising an error.
  Prints "ok <file> <name>" or "FAIL <file> <name>: <error>"; exits 1 when anything failed.
]]

package.path = "lua/?.lua;lua/tests/?.lua;" .. package.path

local failed, passed = 0, 0
for _, file in ipairs(arg) do
  local tests = dofile(file)
  for _, t in ipairs(tests) do
    local ok, err = xpcall(t[2], debug.traceback)
    if ok then
      passed = passed + 1
      print("ok " .. file .. " " .. t[1])
    else
      failed = failed + 1
      print("FAIL " .. file .. " " .. t[1] .. ": " .. tostring(err))
    end
  end
end
require("helpers").cleanup()
print(string.format("%d passed, %d failed", passed, failed))
os.exit(failed == 0 and passed > 0 and 0 or 1)
