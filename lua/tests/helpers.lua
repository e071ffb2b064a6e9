-- Small helpers shared by the Lua tests: assertions, temporary folders, files.
local h = {}

function h.eq(got, want, what)
  if got ~= want then
    error(string.format("%s: expected %q, got %q", what or "value", tostring(want), tostring(got)), 2)
  end
end

function h.has(text, part, what)
  if type(text) ~= "string" or not text:find(part, 1, true) then
    error(string.format("%s: %q does not contain %q", what or "text", tostring(text), part), 2)
  end
end

function h.lacks(text, part, what)
  if type(text) == "string" and text:find(part, 1, true) then
    error(string.format("%s: %q contains %q", what or "text", text, part), 2)
  end
end

local made = {}

function h.tmpdir()
  local p = io.popen("mktemp -d")
  local dir = p:read("l")
  p:close()
  made[#made + 1] = dir
  return dir
end

function h.cleanup()
  for _, dir in ipairs(made) do os.execute("rm -rf '" .. dir .. "'") end
end

function h.write(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

function h.read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local t = f:read("a")
  f:close()
  return t
end

function h.ls(dir)
  local p = io.popen("ls -A " .. "'" .. dir:gsub("'", "'\\''") .. "'")
  local names = {}
  for line in p:lines() do names[#names + 1] = line end
  p:close()
  return names
end

-- How system() reports an exit code, as darktable's dt.control.execute passes it on.
function h.system(cmd)
  local ok, how, code = os.execute(cmd)
  if ok then return 0 end
  return how == "exit" and code * 256 or code
end

return h
