-- retouchiq.lua against the darktable stub: the panel, apply() for one photo and for a roll, error paths.
local h = require "helpers"
local stub = require "darktable_stub"
local json = require "retouchiq.json"

local JPEG = "tests/data/photos/picosdeeuropa_by_Aitzol_Berasategi.jpg"
local OLD = '<x:xmpmeta><darktable:history><rdf:li darktable:operation="exposure" darktable:multi_name=""/>'
            .. "</darktable:history></x:xmpmeta>"
local NEW = '<x:xmpmeta><darktable:history><rdf:li darktable:operation="exposure" '
            .. 'darktable:multi_name="retouchiq"/></darktable:history></x:xmpmeta>'

-- Answers curl commands instead of a server: route(method, path, cmd) -> http status, body text | nil, curl exit.
local function serve(dt, route)
  dt.sent = {}
  dt.handler = function(cmd)
    if not cmd:find("^'curl'") then
      dt.started = cmd
      return 0
    end
    local body, code, err = cmd:match("%-o '([^']*)' %-w '%%{http_code}' > '([^']*)' 2> '([^']*)'$")
    local path = cmd:match("'https?://[^/']+([^']*)' %-o")
    local method = cmd:find("'-X' 'DELETE'", 1, true) and "DELETE" or cmd:find("'-F'", 1, true) and "POST"
                   or "GET"
    local sidecar = cmd:match("sidecar=<\"([^\"]*)\"")
    dt.sent[#dt.sent + 1] = {method = method, path = path, cmd = cmd, sidecar = sidecar and h.read(sidecar)}
    local status, text, exit = route(method, path, cmd)
    if exit then
      h.write(err, "curl: (" .. exit .. ") failed")
      h.write(code, "000")
      return exit * 256
    end
    h.write(body, text)
    h.write(code, tostring(status))
    return 0
  end
end

local function edit_answer(method, path)
  if path == "/v1/health" then return 200, '{"status":"ok"}' end
  if path == "/v1/edit" then
    return 200, json.encode({reasoning = "brighter: exposure +0.6 EV",
                             operations = {{module = "exposure", params = {exposure = 0.6}}}, xmp = NEW})
  end
  return 404, '{"detail":"no such path"}'
end

local function setup(opts)
  local dir = h.tmpdir()
  local dt = stub.new({tmp_dir = h.tmpdir(), api_minor = opts and opts.api_minor, view = opts and opts.view})
  local plugin = stub.load(dt)
  return dt, plugin, dir
end

local function backups(dir)
  local out = {}
  for _, name in ipairs(h.ls(dir)) do
    if name:find("%.bak$") then out[#out + 1] = name end
  end
  return out
end

return {
  {"loads as a lua-scripts script: preferences, panel, shortcut", function()
    local dt, plugin = setup()
    h.eq(dt.defaults["retouchiq/server_url"], "http://127.0.0.1:8765", "url default")
    h.eq(dt.defaults["retouchiq/preview_size"], 1024, "preview size default")
    h.eq(dt.defaults["retouchiq/auto_start"], false, "auto-start default")
    h.eq(#dt.libs_registered, 1, "one lib")
    h.eq(dt.libs_registered[1][1], "retouchiq", "lib name")
    local views = dt.libs_registered[1][5]
    h.eq(views[dt.gui.views.lighttable][1], "DT_UI_CONTAINER_PANEL_RIGHT_CENTER", "lighttable container")
    h.eq(views[dt.gui.views.darkroom][1], "DT_UI_CONTAINER_PANEL_LEFT_CENTER", "darkroom container")
    h.eq(type(dt.events["retouchiq_apply/shortcut"]), "function", "shortcut")
    h.eq(plugin.ready, true, "ready")
    h.eq(plugin.metadata.name, "RetouchIQ", "metadata")
    h.eq(plugin.destroy_method, "hide", "destroy method")
    plugin.destroy()
    h.eq(dt.gui.libs.retouchiq.visible, false, "hidden")
    h.eq(dt.events["retouchiq_apply/shortcut"], nil, "shortcut removed")
    plugin.restart()
    h.eq(dt.gui.libs.retouchiq.visible, true, "shown again")
    h.eq(type(dt.events["retouchiq_apply/shortcut"]), "function", "shortcut back")
  end},

  {"nothing touches darktable's widgets while luarc runs; defaults hold until start-up", function()
    local dir = h.tmpdir()
    local dt = stub.new({tmp_dir = h.tmpdir(), hold_start = true})
    local plugin = stub.load(dt)
    h.eq(#dt.libs_registered, 0, "no panel yet")
    h.eq(next(dt.defaults), nil, "no preferences registered yet")
    h.eq(plugin.ready, nil, "not ready")
    serve(dt, edit_answer)
    local r = plugin.apply({stub.image(dt, dir, "a.jpg", JPEG, OLD)}, "warmer", {})
    h.eq(r.edited, 1, "works with the defaults")
    h.has(dt.sent[1].cmd, "'http://127.0.0.1:8765/v1/health'", "default URL")
    dt.held()
    h.eq(plugin.ready, true, "ready")
    h.eq(#dt.libs_registered, 1, "panel")
  end},

  {"started in darkroom: lighttable shows while the panel registers, then the photo opens again", function()
    local dt = stub.new({tmp_dir = h.tmpdir(), view = "darkroom", hold_start = true})
    local img = stub.image(dt, h.tmpdir(), "a.jpg", JPEG, OLD)
    dt.shown = img
    stub.load(dt)
    h.eq(#dt.libs_registered, 0, "not while luarc runs")
    dt.held()
    h.eq(#dt.libs_registered, 1, "registered")
    h.eq(table.concat(dt.visited, ","), "lighttable,darkroom", "stepped out and back")
    h.eq(dt.gui.current_view().id, "darkroom", "in darkroom")
    h.eq(dt.gui.views.darkroom.display_image(), img, "the same photo")
    dt.events["retouchiq_view/view-changed"]("view-changed", dt.gui.views.darkroom, dt.gui.views.lighttable)
    h.eq(#dt.libs_registered, 1, "once")
  end},

  {"one photo: preview and sidecar out, backup, new sidecar in, reloaded, tagged", function()
    local dt, plugin, dir = setup()
    serve(dt, edit_answer)
    dt.prefs["retouchiq/preview_size"] = 512
    local img = stub.image(dt, dir, "IMG 1's.jpg", JPEG, OLD)
    local r = plugin.apply({img}, "  make it 'brighter'  ", {})
    h.eq(r.error, nil, "error")
    h.eq(r.edited, 1, "edited")
    h.eq(r.results[1].reasoning, "brighter: exposure +0.6 EV", "reasoning")
    h.eq(r.results[1].operations[1].module, "exposure", "operations")
    -- the request
    local edit = dt.sent[2]
    h.eq(dt.sent[1].path, "/v1/health", "health first")
    h.eq(edit.path, "/v1/edit", "edit")
    h.has(edit.cmd, [['instruction=make it '\''brighter'\''']], "instruction, trimmed and quoted")
    h.has(edit.cmd, [['options={"filename":"IMG 1'\''s.jpg"}']], "file name")
    h.eq(edit.sidecar, OLD, "current sidecar sent")
    h.eq(dt.exported.format.max_width, 512, "preview size")
    h.eq(dt.exported.format.max_height, 512, "preview size")
    -- the result
    h.eq(h.read(img.sidecar), NEW, "new sidecar")
    h.eq(#backups(dir), 1, "one backup")
    h.eq(h.read(dir .. "/" .. backups(dir)[1]), OLD, "backup holds the old sidecar")
    h.eq(r.results[1].backup, dir .. "/" .. backups(dir)[1], "backup reported")
    h.eq(dt.imported[1], dir .. "/IMG 1's.jpg", "re-imported to reload the sidecar")
    h.eq(img.dropped, 1, "cache dropped")
    h.eq(dt.attached[1][1], "darktable|retouchiq", "tagged")
    h.has(dt.printed[#dt.printed], "brighter: exposure +0.6 EV", "reasoning printed")
    h.eq(#h.ls(dt.configuration.tmp_dir), 0, "temporary files removed")
    h.eq(dt.jobs[1].valid, false, "job ended")
  end},

  {"darkroom: the open photo is edited from lighttable, then shown again", function()
    local dt, plugin, dir = setup({view = "darkroom"})
    serve(dt, edit_answer)
    local img = stub.image(dt, dir, "a.jpg", JPEG, OLD)
    local other = stub.image(dt, dir, "b.jpg", JPEG, OLD)
    dt.shown = other
    dt.gui.current_view(dt.gui.views.darkroom) -- (start-up found no open photo and stayed in lighttable)
    dt.visited = {}
    plugin.apply({img}, "warmer", {})
    h.eq(#dt.visited, 0, "another photo open: darkroom stays")
    dt.shown = img
    local r = plugin.apply({img}, "warmer", {})
    h.eq(r.edited, 1, "edited")
    h.eq(table.concat(dt.visited, ","), "lighttable,darkroom", "left and came back")
    h.eq(dt.selected[1], img, "selected for darkroom")
    h.eq(dt.gui.current_view().id, "darkroom", "back in darkroom")
  end},

  {"a photo without a sidecar gets one, nothing to back up", function()
    local dt, plugin, dir = setup()
    serve(dt, edit_answer)
    local img = stub.image(dt, dir, "a.jpg", JPEG)
    local r = plugin.apply({img}, "warmer", {})
    h.eq(r.edited, 1, "edited")
    h.eq(dt.sent[2].sidecar, nil, "no sidecar sent")
    h.lacks(dt.sent[2].cmd, "sidecar=", "no sidecar field")
    h.eq(h.read(img.sidecar), NEW, "written")
    h.eq(#backups(dir), 0, "no backup")
    h.eq(r.results[1].backup, nil, "no backup reported")
  end},

  {"API 9.5 loads the sidecar with image:apply_sidecar", function()
    local dt, plugin, dir = setup({api_minor = 5})
    serve(dt, edit_answer)
    local img = stub.image(dt, dir, "a.jpg", JPEG, OLD)
    plugin.apply({img}, "warmer", {})
    h.eq(dt.applied_sidecars[1], img.sidecar, "apply_sidecar")
    h.eq(#dt.imported, 0, "no re-import")
  end},

  {"unreachable server (real curl): a clear message, the sidecar untouched", function()
    local dt, plugin, dir = setup()
    dt.prefs["retouchiq/server_url"] = "http://127.0.0.1:9"
    local img = stub.image(dt, dir, "a.jpg", JPEG, OLD)
    local r = plugin.apply({img}, "warmer", {})
    h.eq(r.edited, 0, "edited")
    h.has(r.error, "no RetouchIQ server answers at http://127.0.0.1:9", "message")
    h.has(dt.printed[#dt.printed], "no RetouchIQ server answers", "shown")
    h.eq(h.read(img.sidecar), OLD, "sidecar")
    h.eq(#backups(dir), 0, "no backup")
    h.eq(dt.jobs[1].valid, false, "job ended")
    -- not stuck: the next call runs
    serve(dt, edit_answer)
    h.eq(plugin.apply({img}, "warmer", {}).edited, 1, "next call")
  end},

  {"HTTP errors, timeouts and bad answers leave the sidecar alone", function()
    local cases = {
      {function(m, p) if p == "/v1/health" then return 200, "{}" end
         return 422, '{"detail":"instruction: is empty"}' end, "HTTP 422: instruction: is empty"},
      {function(m, p) if p == "/v1/health" then return 200, "{}" end
         return 500, "Internal Server Error" end, "HTTP 500: Internal Server Error"},
      {function(m, p) if p == "/v1/health" then return 200, "{}" end
         return 200, '{"reasoning": "cut off' end, "not JSON"},
      {function(m, p) if p == "/v1/health" then return 200, "{}" end
         return 200, '{"reasoning": "r", "xmp": "<html/>"}' end, "no darktable sidecar"},
      {function(m, p) if p == "/v1/health" then return 200, "{}" end
         return nil, nil, 28 end, "did not answer within 120 s"},
    }
    for _, case in ipairs(cases) do
      local dt, plugin, dir = setup()
      serve(dt, case[1])
      local img = stub.image(dt, dir, "a.jpg", JPEG, OLD)
      local r = plugin.apply({img}, "warmer", {})
      h.eq(r.edited, 0, case[2])
      h.has(r.failed[1] and r.failed[1].error, case[2], "error")
      h.has(r.error or dt.printed[#dt.printed], case[2], "shown")
      h.eq(h.read(img.sidecar), OLD, "sidecar kept")
      h.eq(#backups(dir), 0, "no backup")
      h.eq(#dt.imported + #dt.attached, 0, "not reloaded or tagged")
      h.eq(#h.ls(dt.configuration.tmp_dir), 0, "temporary files removed")
    end
  end},

  {"a Lua error inside darktable's API ends the job and frees the panel", function()
    local dt, plugin, dir = setup()
    serve(dt, edit_answer)
    local img = stub.image(dt, dir, "a.jpg", JPEG, OLD)
    dt.database.import = function() error("database is locked") end
    local r = plugin.apply({img}, "warmer", {})
    h.has(r.error, "RetouchIQ stopped on an error: ", "message")
    h.has(r.error, "database is locked", "cause")
    h.eq(dt.jobs[1].valid, false, "job ended")
    dt.database.import = function() end
    h.eq(plugin.apply({img}, "warmer", {}).edited, 1, "not busy afterwards")
  end},

  {"nothing to do: no instruction, no photos, no preview, no sidecar", function()
    local dt, plugin, dir = setup()
    serve(dt, edit_answer)
    local img = stub.image(dt, dir, "a.jpg", JPEG, OLD)
    h.has(plugin.apply({img}, "   ", {}).error, "type an instruction", "empty")
    h.has(plugin.apply({}, "warmer", {}).error, "select the photos", "no photos")
    h.eq(#dt.sent, 0, "no request")
    local broken = stub.image(dt, dir, "b.jpg", nil, OLD)
    h.has(plugin.apply({broken}, "warmer", {}).failed[1].error, "could not export a preview of b.jpg", "export")
    local lost = stub.image(dt, dir, "c.jpg", JPEG)
    lost.is_altered = true
    h.has(plugin.apply({lost}, "warmer", {}).failed[1].error, "write sidecar file", "no sidecar")
    h.eq(#dt.sent, 2, "only health checks")
  end},

  {"roll: one job, results installed as they finish, failures reported", function()
    local dt, plugin, dir = setup()
    local polls = 0
    serve(dt, function(method, path)
      if path == "/v1/health" then return 200, "{}" end
      if method == "POST" and path == "/v1/rolls" then return 202, '{"id":"r1","state":"queued"}' end
      if path == "/v1/rolls/r1" then
        polls = polls + 1
        local second = polls == 1 and {index = 1, state = "queued"} or {index = 1, state = "failed", error = "bad"}
        return 200, json.encode({id = "r1", state = polls == 1 and "running" or "done", photos = {
          {index = 0, state = "done", reasoning = "warmer", operations = {}, xmp = NEW}, second}})
      end
    end)
    local a = stub.image(dt, dir, "a.jpg", JPEG, OLD)
    local b = stub.image(dt, dir, "b.jpg", JPEG)
    local r = plugin.apply({a, b}, "warmer", {consistent = true})
    local post = dt.sent[2].cmd
    h.has(post, "'consistent=true'", "consistent")
    h.has(post, [['options={"filenames":["a.jpg","b.jpg"]}']], "names")
    h.has(post, "'--form-string' 'sidecars='", "empty sidecar for b")
    h.eq(polls, 2, "polled until done")
    h.eq(r.edited, 1, "edited")
    h.eq(r.failed[1].image, b, "failed photo")
    h.eq(r.failed[1].error, "bad", "its error")
    h.eq(h.read(a.sidecar), NEW, "a installed")
    h.eq(h.read(b.sidecar), nil, "b untouched")
    h.has(r.error or dt.printed[#dt.printed], "1 edited, 1 failed: bad", "summary")
    h.eq(dt.jobs[1].percent, 1.0, "progress")
    h.eq(#h.ls(dt.configuration.tmp_dir), 0, "temporary files removed")
  end},

  {"roll: cancelling the job cancels the roll on the server", function()
    local dt, plugin, dir = setup()
    serve(dt, function(method, path)
      if path == "/v1/health" then return 200, "{}" end
      if method == "POST" then return 202, '{"id":"r2"}' end
      if method == "DELETE" then return 200, '{"id":"r2","state":"cancelled"}' end
      return 200, '{"id":"r2","state":"running","photos":[{"index":0,"state":"queued"}]}'
    end)
    local polls = 0
    dt.on_sleep = function()
      polls = polls + 1
      if polls == 2 then dt.jobs[1].cancel(dt.jobs[1]) end
    end
    local a = stub.image(dt, dir, "a.jpg", JPEG, OLD)
    local b = stub.image(dt, dir, "b.jpg", JPEG, OLD)
    local r = plugin.apply({a, b}, "warmer", {})
    h.eq(dt.sent[#dt.sent].method, "DELETE", "cancelled on the server")
    h.eq(dt.sent[#dt.sent].path, "/v1/rolls/r2", "that roll")
    h.has(dt.printed[#dt.printed], "(cancelled)", "said so")
    h.eq(r.edited, 0, "nothing edited")
    h.eq(h.read(a.sidecar), OLD, "untouched")
  end},

  {"auto-start: no server answers, the server command runs (with the policy preference), then the edit",
   function()
    for _, policy in ipairs({"", "openai:http://127.0.0.1:11434/v1#qwen2.5vl:7b"}) do
      local dt, plugin, dir = setup()
      h.eq(dt.defaults["retouchiq/policy"], "", "policy default: the server's own")
      dt.prefs["retouchiq/auto_start"] = true
      dt.prefs["retouchiq/server_url"] = "http://localhost:18999"
      dt.prefs["retouchiq/policy"] = policy
      serve(dt, function(method, path)
        if not dt.started then return nil, nil, 7 end
        return edit_answer(method, path)
      end)
      local img = stub.image(dt, dir, "a.jpg", JPEG, OLD)
      local r = plugin.apply({img}, "warmer", {})
      local flag = policy ~= "" and (" --policy '" .. policy .. "'") or ""
      h.has(dt.started, "retouchiq serve --host 'localhost' --port '18999'" .. flag .. " > '", "start command")
      h.eq(dt.started:sub(-1), "&", "in the background")
      local options = dt.sent[#dt.sent].cmd:match("options=(%b{})")
      h.eq(options:find('"policy"', 1, true) ~= nil, policy ~= "", "the policy named in the options if set")
      h.eq(r.edited, 1, "edited after the start")
    end
  end},

  {"recent instructions: newest first, no repeats, at most ten", function()
    local dt, plugin, dir = setup()
    serve(dt, edit_answer)
    local img = stub.image(dt, dir, "a.jpg", JPEG, OLD)
    for i = 1, 12 do plugin.apply({img}, "look " .. i, {}) end
    plugin.apply({img}, "look 5", {})
    local recent = json.decode(dt.prefs["retouchiq/recent"])
    h.eq(#recent, 10, "ten")
    h.eq(recent[1], "look 5", "newest first")
    h.eq(recent[2], "look 12", "then the others")
    h.eq(table.concat(recent, ","):find("look 5,.*look 5"), nil, "no repeats")
  end},

  {"the panel says what was done in plain words; the measurements on request", function()
    for _, measurements in ipairs({false, true}) do
      local dt, plugin, dir = setup()
      dt.prefs["retouchiq/measurements"] = measurements
      serve(dt, function(method, path)
        if path == "/v1/health" then return 200, '{"status":"ok"}' end
        return 200, json.encode({reasoning = "The frame is dark (median L* 30). Exposure +0.6 EV brightens it.",
                                 summary = "The frame is dark. Exposure +0.6 EV brightens it.",
                                 operations = {{module = "exposure", params = {exposure = 0.6}}}, xmp = NEW})
      end)
      local img = stub.image(dt, dir, "a.jpg", JPEG, OLD)
      local r = plugin.apply({img}, "brighter", {})
      h.eq(r.edited, 1, "edited")
      h.eq(r.results[1].summary, "The frame is dark. Exposure +0.6 EV brightens it.", "summary kept")
      h.eq(dt.printed[#dt.printed]:find("median L*", 1, true) ~= nil, measurements, "measurements shown or not")
      h.has(dt.printed[#dt.printed], "Exposure +0.6 EV brightens it.", "what was done, either way")
    end
  end},
}
