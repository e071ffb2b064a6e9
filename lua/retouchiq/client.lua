--[[
  retouchiq/client.lua: talking to the RetouchIQ server through curl, and writing sidecars safely.

  Pure Lua (no darktable): the plugin passes in how to run a command, so the tests can drive every path.
  Commands are POSIX shell lines; every argument goes through quote(), so instructions, file names and tokens
  can never be read as shell syntax.

  Copyright (C) 2026 the RetouchIQ authors. GPL-3.0-or-later.
]]

local json = require "retouchiq.json"

local client = {}

-- shell and curl quoting ---------------------------------------------------------------------------------

-- One shell word: single quotes, with each ' written as '\'' (POSIX sh has no escapes inside '...').
function client.quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

-- A file for curl's -F: the name in double quotes so ';' and ',' in a path are not read as curl options.
local function form_file(path)
  return '"' .. path:gsub('[\\"]', "\\%0") .. '"'
end

-- requests -----------------------------------------------------------------------------------------------

-- Options shared by every call: silent but errors on stderr, bounded time, the token if one is set.
local function curl_base(cfg)
  local args = {"curl", "-sS", "--max-time", tostring(cfg.timeout), "--connect-timeout",
                tostring(math.min(cfg.timeout, 5))}
  if cfg.token and cfg.token ~= "" then
    args[#args + 1] = "-H"
    args[#args + 1] = "Authorization: Bearer " .. cfg.token
  end
  return args
end

local function join_url(base, path)
  return (base:gsub("/+$", "")) .. path
end

-- The shell line: body to files.body, HTTP status to files.code, curl's error text to files.err.
local function command(args, files)
  local words = {}
  for i, a in ipairs(args) do words[i] = client.quote(a) end
  return table.concat(words, " ") .. " -o " .. client.quote(files.body) .. " -w '%{http_code}' > "
      .. client.quote(files.code) .. " 2> " .. client.quote(files.err)
end

-- POST /v1/edit: req = {preview = JPEG path, instruction, sidecar = file holding the current sidecar or nil,
-- options = table sent as JSON}.
function client.edit_command(cfg, req, files)
  local args = curl_base(cfg)
  for _, a in ipairs({"-F", "preview=@" .. form_file(req.preview) .. ";type=image/jpeg",
                      "--form-string", "instruction=" .. req.instruction,
                      "--form-string", "options=" .. json.encode(req.options or {})}) do
    args[#args + 1] = a
  end
  if req.sidecar then
    args[#args + 1] = "-F"
    args[#args + 1] = "sidecar=<" .. form_file(req.sidecar)
  end
  args[#args + 1] = join_url(cfg.url, "/v1/edit")
  return command(args, files)
end

-- POST /v1/rolls: req = {previews = {path...}, sidecars = {path or false...}, instruction, consistent,
-- options}. A photo without a sidecar sends an empty field, so the lists stay aligned.
function client.roll_command(cfg, req, files)
  local args = curl_base(cfg)
  for i, p in ipairs(req.previews) do
    args[#args + 1] = "-F"
    args[#args + 1] = "previews=@" .. form_file(p) .. ";type=image/jpeg"
    local s = req.sidecars[i]
    args[#args + 1] = s and "-F" or "--form-string"
    args[#args + 1] = s and "sidecars=<" .. form_file(s) or "sidecars="
  end
  for _, a in ipairs({"--form-string", "instruction=" .. req.instruction,
                      "--form-string", "consistent=" .. tostring(req.consistent and true or false),
                      "--form-string", "options=" .. json.encode(req.options or {}),
                      join_url(cfg.url, "/v1/rolls")}) do
    args[#args + 1] = a
  end
  return command(args, files)
end

-- POST /v1/undo: req = {sidecar = file holding the current sidecar, backups = {paths of its backups, newest
-- first}}.
function client.undo_command(cfg, req, files)
  local args = curl_base(cfg)
  args[#args + 1] = "-F"
  args[#args + 1] = "sidecar=<" .. form_file(req.sidecar)
  for _, b in ipairs(req.backups or {}) do
    args[#args + 1] = "-F"
    args[#args + 1] = "backups=<" .. form_file(b)
  end
  args[#args + 1] = join_url(cfg.url, "/v1/undo")
  return command(args, files)
end

-- GET or DELETE a path (health, roll status, cancelling a roll).
function client.get_command(cfg, path, files, method)
  local args = curl_base(cfg)
  if method then
    args[#args + 1] = "-X"
    args[#args + 1] = method
  end
  args[#args + 1] = join_url(cfg.url, path)
  return command(args, files)
end

-- responses ----------------------------------------------------------------------------------------------

-- curl's exit codes that mean something to a photographer (man curl, EXIT CODES).
local CURL = {
  [6] = "cannot resolve the server's host name in %s",
  [7] = "no RetouchIQ server answers at %s (start it with `retouchiq serve`, or turn on auto-start in "
        .. "preferences > lua options)",
  [28] = "the RetouchIQ server at %s did not answer within %d s",
  [52] = "the server at %s closed the connection without an answer",
  [56] = "the connection to %s broke off",
}

-- system() gives a wait status on POSIX (exit code * 256); the exit code is what curl reports.
function client.exit_code(status)
  if status == true then return 0 end
  if type(status) ~= "number" then return -1 end
  if status > 255 then return status // 256 end
  return status
end

-- The outcome of one call: the decoded JSON body, or nil and a sentence for the photographer.
-- r = {status = what running the command returned, code = text of files.code, body, err = curl's stderr},
-- cfg gives url and timeout for the messages.
function client.parse(cfg, r)
  local exit = client.exit_code(r.status)
  if exit == 127 then return nil, "curl is not installed (RetouchIQ needs it to reach its server)" end
  if exit ~= 0 then
    local msg = CURL[exit]
    if msg then return nil, string.format(msg, cfg.url, cfg.timeout) end
    local detail = (r.err or ""):gsub("^curl: %(%d+%)%s*", ""):gsub("%s+$", "")
    return nil, string.format("could not reach the RetouchIQ server at %s (curl error %d%s)", cfg.url, exit,
                              detail ~= "" and ": " .. detail or "")
  end
  local code = tonumber((r.code or ""):match("%d+"))
  if not code or code == 0 then return nil, "no HTTP answer from " .. cfg.url end
  local body, jerr = json.decode(r.body or "")
  if code < 200 or code > 299 then
    local detail = type(body) == "table" and type(body.detail) == "string" and body.detail
        or (r.body or ""):sub(1, 200):gsub("%s+", " ")
    if code == 401 then
      return nil, "the server refused the token (set it in preferences > lua options): " .. detail, code
    elseif code == 503 then
      return nil, "the server is busy, try again in a moment: " .. detail, code
    end
    return nil, string.format("the server answered HTTP %d: %s", code, detail), code
  end
  if type(body) ~= "table" then
    return nil, string.format("the server's answer is not JSON (%s): %s", jerr or "not an object",
                              (r.body or ""):sub(1, 120)), code
  end
  return body, nil, code
end

-- An /v1/edit answer must carry the new sidecar and say why.
function client.check_edit(body)
  local nothing = body.xmp == nil or body.xmp == json.null
  local ops = type(body.operations) == "table" and #body.operations or 0
  if nothing and ops == 0 then
    body.xmp = nil -- the edit changes nothing: the sidecar stays as it is
  elseif type(body.xmp) ~= "string" or not body.xmp:find("<x:xmpmeta", 1, true)
      or not body.xmp:find("darktable:history", 1, true) then
    return nil, "the server's answer holds no darktable sidecar"
  end
  if type(body.reasoning) ~= "string" then return nil, "the server's answer holds no reasoning" end
  return body
end

-- An /v1/undo answer must carry the sidecar as it was and say what was taken back.
function client.check_undo(body)
  if type(body.xmp) ~= "string" or not body.xmp:find("<x:xmpmeta", 1, true) then
    return nil, "the server's answer holds no darktable sidecar"
  end
  if type(body.summary) ~= "string" then return nil, "the server's answer does not say what it took back" end
  return body
end

-- files --------------------------------------------------------------------------------------------------

-- The backups of the sidecar `name` among a folder's file names (NAME.retouchiq-YYYYmmdd-HHMMSS[-n].bak, see
-- client.backup), newest first, at most `max`.
function client.backups_of(names, name, max)
  local prefix, found = name .. ".retouchiq-", {}
  for _, n in ipairs(names) do
    if n:sub(1, #prefix) == prefix then
      local stamp, k = n:sub(#prefix + 1):match("^(%d%d%d%d%d%d%d%d%-%d%d%d%d%d%d)%-?(%d*)%.bak$")
      if stamp then found[#found + 1] = {name = n, stamp = stamp, k = tonumber(k) or 0} end
    end
  end
  table.sort(found, function(a, b)
    if a.stamp ~= b.stamp then return a.stamp > b.stamp end
    return a.k > b.k
  end)
  local out = {}
  for i = 1, math.min(#found, max or #found) do out[i] = found[i].name end
  return out
end

function client.read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local text = f:read("a")
  f:close()
  return text
end

function client.exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

-- Write to a temporary file next to the target, then rename over it: readers (darktable) see the old or the
-- new sidecar, never half of one.
function client.write_atomic(path, text)
  local tmp = path .. ".retouchiq-tmp"
  local f, err = io.open(tmp, "wb")
  if not f then return nil, "cannot write " .. tmp .. ": " .. tostring(err) end
  local ok, werr = f:write(text)
  local closed, cerr = f:close()
  if not ok or not closed then
    os.remove(tmp)
    return nil, "cannot write " .. tmp .. ": " .. tostring(werr or cerr)
  end
  local renamed, rerr = os.rename(tmp, path)
  if not renamed then
    os.remove(tmp)
    return nil, "cannot replace " .. path .. ": " .. tostring(rerr)
  end
  return path
end

-- Copy an existing sidecar aside as NAME.retouchiq-YYYYmmdd-HHMMSS.bak, the time in UTC (the naming of the
-- Python side, xmp/files.py), never over an earlier backup. Returns the backup's path, false when there was nothing to keep, or nil, error.
function client.backup(path, now)
  local text = client.read(path)
  if not text then return false end
  local stamp = os.date("!%Y%m%d-%H%M%S", now)
  local target, n = path .. ".retouchiq-" .. stamp .. ".bak", 1
  while client.exists(target) do
    target = path .. ".retouchiq-" .. stamp .. "-" .. n .. ".bak"
    n = n + 1
  end
  local ok, err = client.write_atomic(target, text)
  if not ok then return nil, err end
  return target
end

return client
