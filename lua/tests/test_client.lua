-- retouchiq/client.lua and retouchiq/json.lua: requests, shell quoting, answers, sidecar files.
local h = require "helpers"
local client = require "retouchiq.client"
local json = require "retouchiq.json"

local NASTY = [[it's "warmer"; $(touch /tmp/pwned) `id` & | > \ * ~ %s
second line é 😀]]

-- What the shell passes on: the command's leading 'curl' replaced by printf, one [arg] per argument.
local function argv(cmd, dir)
  local probe = cmd:gsub("^'curl'", "printf '[%%s]\\n'")
  local files = {body = dir .. "/b", code = dir .. "/c", err = dir .. "/e"}
  h.eq(h.system(probe), 0, "shell status of " .. probe)
  return h.read(files.code)
end

local function expected(args)
  local out = {}
  for _, a in ipairs(args) do out[#out + 1] = "[" .. a .. "]\n" end
  return table.concat(out)
end

local function files(dir) return {body = dir .. "/b", code = dir .. "/c", err = dir .. "/e"} end

local cfg = {url = "http://127.0.0.1:8765/", timeout = 30, token = ""}

return {
  {"quote survives the shell byte for byte", function()
    local dir = h.tmpdir()
    for _, s in ipairs({"plain", "", "it's", "'", "''", NASTY, "--max-time", "-F x=<y"}) do
      h.eq(h.system("printf %s " .. client.quote(s) .. " > " .. client.quote(dir .. "/out")), 0, "printf")
      h.eq(h.read(dir .. "/out"), s, "round trip")
    end
  end},

  {"edit request: every argument reaches curl unchanged", function()
    local dir = h.tmpdir()
    local req = {preview = dir .. "/p;type=text/x.jpg", sidecar = dir .. '/s "q".xmp', instruction = NASTY,
                 options = {filename = "IMG 1's.jpg"}}
    local cmd = client.edit_command({url = cfg.url, timeout = 30, token = "t0k'en"}, req, files(dir))
    h.eq(argv(cmd, dir), expected({
      "-sS", "--max-time", "30", "--connect-timeout", "5", "-H", "Authorization: Bearer t0k'en",
      "-F", 'preview=@"' .. dir .. '/p;type=text/x.jpg";type=image/jpeg',
      "--form-string", "instruction=" .. NASTY,
      "--form-string", 'options={"filename":"IMG 1\'s.jpg"}',
      "-F", 'sidecar=<"' .. dir .. '/s \\"q\\".xmp"',
      "http://127.0.0.1:8765/v1/edit", "-o", dir .. "/b", "-w", "%{http_code}"}), "argv")
  end},

  {"edit request without token or sidecar", function()
    local dir = h.tmpdir()
    local cmd = client.edit_command(cfg, {preview = "/p.jpg", instruction = "warmer"}, files(dir))
    h.lacks(cmd, "Authorization")
    h.lacks(cmd, "sidecar=")
    h.has(cmd, "'instruction=warmer'")
  end},

  {"roll request keeps previews, sidecars and names aligned", function()
    local dir = h.tmpdir()
    local req = {previews = {"/a.jpg", "/b.jpg"}, sidecars = {"/a.xmp", false}, instruction = "warmer",
                 consistent = true, options = {filenames = {"a.jpg", "b.jpg"}}}
    h.eq(argv(client.roll_command(cfg, req, files(dir)), dir), expected({
      "-sS", "--max-time", "30", "--connect-timeout", "5",
      "-F", 'previews=@"/a.jpg";type=image/jpeg', "-F", 'sidecars=<"/a.xmp"',
      "-F", 'previews=@"/b.jpg";type=image/jpeg', "--form-string", "sidecars=",
      "--form-string", "instruction=warmer", "--form-string", "consistent=true",
      "--form-string", 'options={"filenames":["a.jpg","b.jpg"]}',
      "http://127.0.0.1:8765/v1/rolls", "-o", dir .. "/b", "-w", "%{http_code}"}), "argv")
  end},

  {"undo request sends the sidecar and its backups, newest first", function()
    local dir = h.tmpdir()
    local req = {sidecar = "/t/a.xmp", backups = {"/p/a.jpg.xmp.retouchiq-20261207-120000-1.bak", "/p/x;y.bak"}}
    h.eq(argv(client.undo_command(cfg, req, files(dir)), dir), expected({
      "-sS", "--max-time", "30", "--connect-timeout", "5",
      "-F", 'sidecar=<"/t/a.xmp"', "-F", 'backups=<"/p/a.jpg.xmp.retouchiq-20261207-120000-1.bak"',
      "-F", 'backups=<"/p/x;y.bak"',
      "http://127.0.0.1:8765/v1/undo", "-o", dir .. "/b", "-w", "%{http_code}"}), "argv")
    local ok, err = client.check_undo({summary = "took back"})
    h.eq(ok, nil, "no sidecar")
    h.has(err, "no darktable sidecar")
  end},

  {"backups of a sidecar: its own only, newest first, as many as asked", function()
    local names = {"a.jpg.xmp", "a.jpg.xmp.retouchiq-20261207-120000.bak", "a.jpg.xmp.retouchiq-20261207-120000-2.bak",
                   "a.jpg.xmp.retouchiq-20261207-120000-1.bak", "a.jpg.xmp.retouchiq-20261206-235959.bak",
                   "ab.jpg.xmp.retouchiq-20261208-000000.bak", "a.jpg.xmp.retouchiq-tmp",
                   "a.jpg.xmp.retouchiq-20261209-000000.bak.old", "a.jpg.xmp.retouchiq-2026.bak"}
    h.eq(table.concat(client.backups_of(names, "a.jpg.xmp"), ","), table.concat({
      "a.jpg.xmp.retouchiq-20261207-120000-2.bak", "a.jpg.xmp.retouchiq-20261207-120000-1.bak",
      "a.jpg.xmp.retouchiq-20261207-120000.bak", "a.jpg.xmp.retouchiq-20261206-235959.bak"}, ","), "all")
    h.eq(#client.backups_of(names, "a.jpg.xmp", 2), 2, "at most 2")
    h.eq(#client.backups_of(names, "b.jpg.xmp"), 0, "none")
  end},

  {"get and delete", function()
    local dir = h.tmpdir()
    h.eq(argv(client.get_command(cfg, "/v1/rolls/ab", files(dir), "DELETE"), dir), expected({
      "-sS", "--max-time", "30", "--connect-timeout", "5", "-X", "DELETE",
      "http://127.0.0.1:8765/v1/rolls/ab", "-o", dir .. "/b", "-w", "%{http_code}"}), "argv")
  end},

  {"answers: success, HTTP errors, bad JSON", function()
    local body = client.parse(cfg, {status = 0, code = "200", body = '{"reasoning":"r","xmp":"x"}'})
    h.eq(body.reasoning, "r", "reasoning")
    local ok, err, code = client.parse(cfg, {status = 0, code = "422",
                                             body = '{"detail":"instruction: is empty"}'})
    h.eq(ok, nil, "422")
    h.eq(code, 422, "code")
    h.eq(err, "the server answered HTTP 422: instruction: is empty", "422 message")
    _, err = client.parse(cfg, {status = 0, code = "503", body = '{"detail":"queue full"}'})
    h.has(err, "busy", "503")
    _, err = client.parse(cfg, {status = 0, code = "401", body = '{"detail":"missing or wrong token"}'})
    h.has(err, "token", "401")
    _, err = client.parse(cfg, {status = 0, code = "500", body = "<html>\n<b>Internal Server Error</b></html>"})
    h.eq(err, "the server answered HTTP 500: <html> <b>Internal Server Error</b></html>", "500 message")
    _, err = client.parse(cfg, {status = 0, code = "200", body = "{\"reasoning\": "})
    h.has(err, "not JSON", "truncated JSON")
    _, err = client.parse(cfg, {status = 0, code = "000", body = nil})
    h.has(err, "no HTTP answer", "no code")
  end},

  {"answers: curl failures become sentences", function()
    local _, err = client.parse(cfg, {status = 7 * 256, err = "curl: (7) Failed to connect"})
    h.eq(err, "no RetouchIQ server answers at http://127.0.0.1:8765/ (start it with `retouchiq serve`, "
              .. "or turn on auto-start in preferences > lua options)", "refused")
    _, err = client.parse(cfg, {status = 28 * 256})
    h.eq(err, "the RetouchIQ server at http://127.0.0.1:8765/ did not answer within 30 s", "timeout")
    _, err = client.parse(cfg, {status = 127 * 256})
    h.has(err, "curl is not installed", "no curl")
    _, err = client.parse(cfg, {status = 35 * 256, err = "curl: (35) SSL connect error\n"})
    h.eq(err, "could not reach the RetouchIQ server at http://127.0.0.1:8765/ (curl error 35: SSL connect error)",
         "other")
  end},

  {"a real curl against a closed port", function()
    local dir = h.tmpdir()
    local closed = {url = "http://127.0.0.1:9", timeout = 5, token = ""}
    local f = files(dir)
    local status = h.system(client.get_command(closed, "/v1/health", f))
    local ok, err = client.parse(closed, {status = status, code = h.read(f.code), body = h.read(f.body),
                                          err = h.read(f.err)})
    h.eq(ok, nil, "result")
    h.has(err, "no RetouchIQ server answers at http://127.0.0.1:9", "message")
  end},

  {"the new sidecar must be darktable XMP", function()
    local ok, err = client.check_edit({reasoning = "r", xmp = "<html/>"})
    h.eq(ok, nil, "html")
    h.has(err, "no darktable sidecar")
    _, err = client.check_edit({xmp = "<x:xmpmeta><darktable:history/></x:xmpmeta>"})
    h.has(err, "no reasoning")
    h.eq(client.check_edit({reasoning = "r", xmp = "<x:xmpmeta><darktable:history/>"}).reasoning, "r", "good")
    -- nothing to change: no sidecar to write, and none may be missing when there are operations
    local same = client.check_edit({reasoning = "r", operations = {}, xmp = json.null})
    h.eq(same.reasoning, "r", "no change")
    h.eq(same.xmp, nil, "no sidecar to write")
    _, err = client.check_edit({reasoning = "r", operations = {{module = "exposure"}}, xmp = json.null})
    h.has(err, "no darktable sidecar")
  end},

  {"backup: a copy per call, never over an earlier one", function()
    local dir = h.tmpdir()
    local path = dir .. "/a.jpg.xmp"
    h.eq(client.backup(path), false, "nothing to back up")
    h.write(path, "one")
    local now = 1795741323  -- 2026-11-27 01:02:03 UTC, whatever the local time zone
    local b1 = client.backup(path, now)
    h.write(path, "two")
    local b2 = client.backup(path, now)
    h.eq(b1, path .. ".retouchiq-20261127-010203.bak", "first name")
    h.eq(b2, path .. ".retouchiq-20261127-010203-1.bak", "second name")
    h.eq(h.read(b1), "one", "first content")
    h.eq(h.read(b2), "two", "second content")
  end},

  {"write_atomic replaces the file and leaves nothing behind", function()
    local dir = h.tmpdir()
    local path = dir .. "/a.xmp"
    h.write(path, "old")
    h.eq(client.write_atomic(path, "new"), path, "result")
    h.eq(h.read(path), "new", "content")
    h.eq(table.concat(h.ls(dir), ","), "a.xmp", "files")
    local ok, err = client.write_atomic(dir .. "/missing/a.xmp", "x")
    h.eq(ok, nil, "missing folder")
    h.has(err, "cannot write")
  end},

  {"json: round trip and errors", function()
    local v = {a = {1, 2.5, "x\n\"y\"\1"}, b = true, c = json.null, ["é"] = "😀", e = {}}
    local text = json.encode(v)
    h.eq(text, '{"a":[1,2.5,"x\\n\\"y\\"\\u0001"],"b":true,"c":null,"e":{},"é":"😀"}', "encoded")
    local back = json.decode(text)
    h.eq(back.a[3], "x\n\"y\"\1", "string")
    h.eq(back.c, json.null, "null")
    h.eq(json.decode('"\\u00e9\\ud83d\\ude00"'), "é😀", "unicode escapes")
    h.eq(json.decode(" -1.5e2 "), -150.0, "number")
    for _, bad in ipairs({"", "{", '{"a" 1}', "[1,]", "01", '"\\x"', "nul", "[1] x", '"a\nb"'}) do
      local r, err = json.decode(bad)
      h.eq(r, nil, "decode " .. bad)
      h.has(err, "byte", "message for " .. bad)
    end
    local ok = pcall(json.encode, {[1] = 1, x = 2, [true] = 3})
    h.eq(ok, false, "mixed keys")
  end},
}
