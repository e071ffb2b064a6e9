--[[
  RetouchIQ for darktable: type an instruction ("warmer, lift the shadows"), and the RetouchIQ server answers
  with ordinary darktable history items (exposure, color calibration, ... instances named "retouchiq ...")
  that you can inspect, tweak or switch off like your own edits.

  Copyright (C) 2026 the RetouchIQ authors.
  This program is free software: you can redistribute it and/or modify it under the terms of the GNU General
  Public License as published by the Free Software Foundation, either version 3 of the License, or (at your
  option) any later version.

  USAGE
    * `retouchiq install-plugin` copies this file and lua/retouchiq/ into ~/.config/darktable/lua/ and adds
      require "retouchiq" to ~/.config/darktable/luarc
    * run the server: `retouchiq serve` (or turn on auto-start in preferences > lua options)
    * lighttable or darkroom: the "RetouchIQ" panel; type an instruction, then "apply to selected" or
      "apply to film roll". A shortcut "RetouchIQ: apply to selected" can be bound in preferences > shortcuts.

  For every photo: a preview (long side "preview size") and the current sidecar go to the server; the old
  sidecar is kept as NAME.xmp.retouchiq-YYYYmmdd-HHMMSS.bak, the new one is written atomically and darktable
  reloads it; the photo is tagged darktable|retouchiq and the server's reasoning is shown (in plain words; the
  preference "show measurements" shows it with the measurements behind it).

  From Lua (e.g. darktable --luacmd): require("retouchiq").apply(images, instruction, {consistent = bool})
  does the same and returns {edited = n, failed = {{image =, error =}...}, results = {{image =, reasoning =,
  summary =, operations =, backup =}...}}.

  "undo the agent's last edit" (require("retouchiq").undo(images), the same answer): the server finds among
  the sidecar's backups the state before the agent's last edit, and the history ends there again, as
  darktable's own undo does; the agent's items stay in the history stack above the end (click the top one to
  have them again). The sidecar is backed up and reloaded as for an edit.

  Requires darktable 4.2 (Lua API 9.0.0) or newer, and curl.
]]

local dt = require "darktable"
local json = require "retouchiq.json"
local client = require "retouchiq.client"

local MODULE = "retouchiq"
local TAG = "darktable|retouchiq"
local RECENT_MAX = 10
local POLL_MS = 500
local START_WAIT_S = 60
local STARTUP_MS, SETTLE_MS = 5000, 3000
local UNDO_BACKUPS = 10 -- the newest backups sent with an undo (the server compares at most 10)

if dt.configuration.api_version_major < 9 then
  error("RetouchIQ needs darktable 4.2 or newer (Lua API 9.0.0), this is API "
        .. dt.configuration.api_version_string)
end

local gettext = dt.gettext
gettext.bindtextdomain(MODULE, dt.configuration.config_dir .. "/lua/locale/")

local function _(msgid)
  return gettext.dgettext(MODULE, msgid)
end

local script_data = {}
script_data.metadata = {
  name = "RetouchIQ",
  purpose = _("edit photos from a written instruction with the RetouchIQ agent"),
  author = "the RetouchIQ authors",
  help = "https://github.com/retouchiq/retouchiq/blob/main/docs/plugin.md",
}
script_data.destroy_method = "hide" -- a lib cannot be unregistered in darktable; it is hidden instead

-- preferences (preferences > lua options) ----------------------------------------------------------------

-- `retouchiq install-plugin` writes retouchiq/installed.lua: the full command of the server it installed
local installed = {}
do
  local ok, found = pcall(require, "retouchiq.installed")
  if ok and type(found) == "table" then installed = found end
end

-- name, type, default, label, tooltip[, min, max]
local PREFS = {
  {"server_url", "string", "http://127.0.0.1:8765", _("RetouchIQ: server URL"), _("where `retouchiq serve` listens")},
  {"token", "string", "", _("RetouchIQ: token"),
   _("the server's token (needed only when the server runs on another machine)")},
  {"preview_size", "integer", 1024, _("RetouchIQ: preview size"),
   _("long side in pixels of the preview sent to the server"), 256, 4096},
  {"timeout", "integer", 120, _("RetouchIQ: timeout (s)"),
   _("seconds to wait for the server's answer to one request"), 5, 3600},
  {"auto_start", "bool", false, _("RetouchIQ: start the server"),
   _("start the server command below when no server answers")},
  {"server_command", "string", installed.server_command or "retouchiq serve", _("RetouchIQ: server command"),
   _("command that starts the server; --host and --port are taken from the URL")},
  {"measurements", "bool", false, _("RetouchIQ: show measurements"),
   _("show the agent's reasoning with the measurements behind it (median L*, mean b*, ...)")},
  {"policy", "string", "", _("RetouchIQ: policy"),
   _("compact, rules, vlm:PATH or openai:URL#MODEL; empty: whatever the server runs (auto-start passes it as "
     .. "--policy, a running server must run the same one)")},
}

local function register_preferences()
  for _, p in ipairs(PREFS) do
    dt.preferences.register(MODULE, p[1], p[2], p[4], p[5], p[3], p[6], p[7])
  end
end

-- Unset values (not yet registered, or emptied by hand in darktablerc) read as "" or 0: use the default then.
local function settings()
  local cfg = {}
  for _, p in ipairs(PREFS) do
    local v = dt.preferences.read(MODULE, p[1], p[2])
    if v == "" or v == 0 or v == nil then v = p[3] end
    cfg[p[1]] = v
  end
  return {url = cfg.server_url, token = cfg.token, size = cfg.preview_size, timeout = cfg.timeout,
          auto_start = cfg.auto_start, command = cfg.server_command, measurements = cfg.measurements,
          policy = cfg.policy ~= "" and cfg.policy or nil}
end

-- running curl ---------------------------------------------------------------------------------------------

local counter = 0

-- A fresh base name in darktable's temp folder for one request's files.
local function tmp_base()
  counter = counter + 1
  return string.format("%s/retouchiq-%d-%d", dt.configuration.tmp_dir, os.time(), counter)
end

local function remove_all(paths)
  for _, p in ipairs(paths) do os.remove(p) end
end

-- Run one curl command; dt.control.execute lets darktable go on while curl waits for the server.
local function call(cfg, build)
  local base = tmp_base()
  local files = {body = base .. ".body", code = base .. ".code", err = base .. ".err"}
  local status = dt.control.execute(build(files))
  local r = {status = status, body = client.read(files.body), code = client.read(files.code),
             err = client.read(files.err)}
  remove_all({files.body, files.code, files.err})
  return client.parse(cfg, r)
end

local function host_port(url)
  local host, port = url:match("^https?://%[?([^/%]]+)%]?:(%d+)")
  return host or url:match("^https?://([^/:]+)") or "127.0.0.1", port or "8765"
end

-- Health check; with auto-start on, start the server when nothing listens and wait until it answers.
local function ensure_server(cfg)
  local ok, err = call(cfg, function(f) return client.get_command(cfg, "/v1/health", f) end)
  if ok then return true end
  if not cfg.auto_start or not err:find("no RetouchIQ server answers", 1, true) then return nil, err end
  local host, port = host_port(cfg.url)
  local log = dt.configuration.tmp_dir .. "/retouchiq-server.log"
  dt.print(_("starting the RetouchIQ server..."))
  local policy = cfg.policy and (" --policy " .. client.quote(cfg.policy)) or ""
  dt.control.execute(cfg.command .. " --host " .. client.quote(host) .. " --port " .. client.quote(port)
                     .. policy .. " > " .. client.quote(log) .. " 2>&1 &")
  for _ = 1, START_WAIT_S * 1000 // POLL_MS do
    dt.control.sleep(POLL_MS)
    if call(cfg, function(f) return client.get_command(cfg, "/v1/health", f) end) then return true end
  end
  return nil, string.format(_("the RetouchIQ server did not start within %d s (see %s)"), START_WAIT_S, log)
end

-- one photo's files ------------------------------------------------------------------------------------------

local function export_preview(img, path, size)
  local fmt = dt.new_format("jpeg")
  fmt.quality = 90
  fmt.max_width = size
  fmt.max_height = size
  fmt:write_image(img, path) -- its return value is unreliable in API 9.0.0 (false on success): check the file
  if not client.exists(path) then
    return nil, string.format(_("could not export a preview of %s"), img.filename)
  end
  return path
end

-- The photo's sidecar as darktable wrote it, copied to `path` for curl; false when the photo has none.
local function current_sidecar(img, path)
  local text = client.read(img.sidecar)
  if not text then
    if img.is_altered then
      return nil, string.format(_("%s is edited but has no sidecar file: set preferences > storage > "
        .. "write sidecar file for each image to \"on import\""), img.filename)
    end
    return false
  end
  local ok, err = client.write_atomic(path, text)
  if not ok then return nil, err end
  return path
end

-- darktable 4.2 (API 9.0.0) has no call to load a sidecar: importing the same file again re-reads its
-- sidecars into the library. API 9.5 added image:apply_sidecar.
local function reload(img)
  local api = dt.configuration
  if api.api_version_major > 9 or api.api_version_minor >= 5 then
    img:apply_sidecar(img.sidecar)
  else
    dt.database.import(img.path .. "/" .. img.filename)
  end
  img:drop_cache()
end

local tag

-- Back up the old sidecar, write the new one, let darktable load it, tag the photo. No sidecar (the edit
-- changes nothing): nothing is written, false is returned.
local function install(img, xmp)
  if xmp == nil then return false end
  local backup, err = client.backup(img.sidecar)
  if backup == nil then return nil, err end
  local ok, werr = client.write_atomic(img.sidecar, xmp)
  if not ok then return nil, werr end
  reload(img)
  tag = tag or dt.tags.create(TAG)
  dt.tags.attach(tag, img)
  return backup
end

-- darkroom keeps the open photo's history in memory and writes it back when it lets the photo go, which would
-- undo a sidecar loaded underneath it: for an edit of that photo, go to lighttable (darktable saves the history
-- there) and come back afterwards. View switches happen in darktable's main loop, so wait for them.
local function switch_view(view)
  dt.gui.current_view(view)
  for _ = 1, 10000 // POLL_MS do
    if dt.gui.current_view() == view then return true end
    dt.control.sleep(POLL_MS)
  end
  return false
end

local function leave_darkroom(images)
  local darkroom = dt.gui.views.darkroom
  if dt.gui.current_view() ~= darkroom then return nil end
  local shown = darkroom.display_image()
  for _, img in ipairs(images) do
    if shown and img.id == shown.id then
      switch_view(dt.gui.views.lighttable)
      return shown
    end
  end
end

local function back_to_darkroom(img)
  dt.gui.selection({img})
  if switch_view(dt.gui.views.darkroom) and dt.gui.views.darkroom.display_image().id ~= img.id then
    dt.gui.views.darkroom.display_image(img)
  end
end

-- the two ways to the server ---------------------------------------------------------------------------------

local function edit_one(cfg, img, instruction)
  local base = tmp_base()
  local preview, err = export_preview(img, base .. ".jpg", cfg.size)
  if not preview then return nil, err end
  local sidecar
  sidecar, err = current_sidecar(img, base .. ".xmp")
  if sidecar == nil then
    os.remove(preview)
    return nil, err
  end
  local req = {preview = preview, sidecar = sidecar or nil, instruction = instruction,
               options = {filename = img.filename, policy = cfg.policy}}
  local body
  body, err = call(cfg, function(f) return client.edit_command(cfg, req, f) end)
  remove_all({preview, base .. ".xmp"})
  if body then body, err = client.check_edit(body) end
  if not body then return nil, err end
  local backup
  backup, err = install(img, body.xmp)
  if backup == nil then return nil, err end
  return {image = img, reasoning = body.reasoning, summary = body.summary, operations = body.operations,
          backup = backup or nil}
end

-- The names in a folder (the plugin has no other way to list one in Lua 5.4).
local function folder_names(dir)
  local list = tmp_base() .. ".list"
  dt.control.execute("ls -1A -- " .. client.quote(dir) .. " > " .. client.quote(list) .. " 2>/dev/null")
  local names = {}
  for line in (client.read(list) or ""):gmatch("[^\n]+") do names[#names + 1] = line end
  os.remove(list)
  return names
end

local function undo_one(cfg, img)
  local base = tmp_base()
  local sidecar, err = current_sidecar(img, base .. ".xmp")
  if sidecar == nil then return nil, err end
  if not sidecar then return nil, string.format(_("%s has no sidecar: nothing to undo"), img.filename) end
  local dir, name = img.sidecar:match("^(.*)/([^/]+)$")
  local backups = {}
  for i, b in ipairs(client.backups_of(folder_names(dir), name, UNDO_BACKUPS)) do backups[i] = dir .. "/" .. b end
  local body
  body, err = call(cfg, function(f) return client.undo_command(cfg, {sidecar = sidecar, backups = backups}, f) end)
  os.remove(sidecar)
  if body then body, err = client.check_undo(body) end
  if not body then return nil, err end
  local backup
  backup, err = install(img, body.xmp)
  if backup == nil then return nil, err end
  return {image = img, reasoning = body.summary, summary = body.summary, operations = {}, backup = backup or nil}
end

-- Many photos: one roll job on the server (needed for one consistent look), results installed as they come.
local function edit_roll(cfg, images, instruction, consistent, job, report)
  local previews, sidecars, names, temp = {}, {}, {}, {}
  local function fail(err)
    remove_all(temp)
    return nil, err
  end
  for i, img in ipairs(images) do
    if not job.valid then return fail(_("cancelled")) end
    local base = tmp_base()
    local preview, err = export_preview(img, base .. ".jpg", cfg.size)
    if not preview then return fail(err) end
    temp[#temp + 1] = preview
    local sidecar
    sidecar, err = current_sidecar(img, base .. ".xmp")
    if sidecar == nil then return fail(err) end
    temp[#temp + 1] = base .. ".xmp"
    previews[i], sidecars[i], names[i] = preview, sidecar, img.filename
    job.percent = 0.3 * i / #images
  end
  local req = {previews = previews, sidecars = sidecars, instruction = instruction, consistent = consistent,
               options = {filenames = names, policy = cfg.policy}}
  local roll, err = call(cfg, function(f) return client.roll_command(cfg, req, f) end)
  remove_all(temp)
  if not roll then return nil, err end
  if type(roll.id) ~= "string" then return nil, _("the server's answer holds no roll id") end
  local seen = {}
  while true do
    if not job.valid then
      call(cfg, function(f) return client.get_command(cfg, "/v1/rolls/" .. roll.id, f, "DELETE") end)
      return true
    end
    dt.control.sleep(POLL_MS)
    local status
    status, err = call(cfg, function(f) return client.get_command(cfg, "/v1/rolls/" .. roll.id, f) end)
    if not status then return nil, err end
    local finished = 0
    for _, p in ipairs(status.photos or {}) do
      local img = images[(p.index or -1) + 1]
      if img and p.state ~= "queued" then
        finished = finished + 1
        if not seen[p.index] then
          seen[p.index] = true
          if p.state == "done" then
            local body, cerr = client.check_edit(p)
            local backup
            if body then backup, cerr = install(img, body.xmp) end
            if body and backup ~= nil then
              report(img, {image = img, reasoning = body.reasoning, summary = body.summary,
                           operations = body.operations, backup = backup or nil})
            else
              report(img, nil, cerr)
            end
          else
            report(img, nil, p.error or p.state)
          end
        end
      end
    end
    job.percent = 0.3 + 0.7 * finished / #images
    if status.state == "done" or status.state == "cancelled" then return true end
  end
end

-- the panel ------------------------------------------------------------------------------------------------

local ui = {}

local function recent_list()
  local list = json.decode(dt.preferences.read(MODULE, "recent", "string") or "")
  return type(list) == "table" and list or {}
end

local function show_recent(list)
  if not ui.panel then return end
  -- a combobox takes an entry at an index up to one past its last, and drops one given nil: fill from the
  -- first index up, then clear what is left from the last entry down
  for i = 1, #list do ui.recent[i] = list[i] end
  for i = #ui.recent, #list + 1, -1 do ui.recent[i] = nil end
end

local function remember(instruction)
  local list = {instruction}
  for _, s in ipairs(recent_list()) do
    if s ~= instruction and #list < RECENT_MAX then list[#list + 1] = s end
  end
  dt.preferences.write(MODULE, "recent", "string", json.encode(list))
  show_recent(list)
end

local function show(status, reasoning, instruction)
  if not ui.panel then return end
  ui.status.label = status
  if reasoning then ui.reasoning.text = reasoning end
  if instruction then ui.instruction.text = instruction end
end

-- the action -----------------------------------------------------------------------------------------------

local busy = false

-- One piece of work over photos as a darktable job: the server up, darkroom left and come back to (it holds
-- the open photo's history in memory), errors caught, the panel and the summary told. work(cfg, job, report)
-- does the photos; `done` is what happened to each ("edited", "undone").
local function run_job(images, title, done, work)
  local summary = {edited = 0, failed = {}, results = {}}
  local function stop(msg)
    dt.print(msg)
    show(msg)
    summary.error = msg
    return summary
  end
  if not images or #images == 0 then return stop(_("select the photos first")) end
  if busy then return stop(_("RetouchIQ is still working on the previous instruction")) end
  busy = true
  local cfg = settings()
  -- what the panel says: the photographer's words, or the full reasoning with "show measurements"
  local function said(result) return (cfg.measurements or not result.summary) and result.reasoning or result.summary end
  local job = dt.gui.create_job(string.format(title, #images), true, function(j) j.valid = false end)
  local function report(img, result, err)
    if result then
      summary.edited = summary.edited + 1
      summary.results[#summary.results + 1] = result
      show(string.format("%s %s", img.filename, done), said(result))
    else
      summary.failed[#summary.failed + 1] = {image = img, error = err}
      dt.print_log("RetouchIQ: " .. img.filename .. ": " .. tostring(err))
    end
  end
  local edited_in_darkroom
  -- a Lua error (darktable's API raises them) must not leave the panel busy or the job running
  local finished, ok, err = pcall(function()
    local up, uerr = ensure_server(cfg)
    if not up then return nil, uerr end
    edited_in_darkroom = leave_darkroom(images)
    return work(cfg, job, report)
  end)
  if not finished then err = string.format(_("RetouchIQ stopped on an error: %s"), tostring(ok)) end
  if edited_in_darkroom then back_to_darkroom(edited_in_darkroom) end
  local cancelled = not job.valid
  if not cancelled then job.valid = false end
  busy = false
  if err then return stop(err) end
  local msg
  if #summary.failed > 0 then
    msg = string.format(_("RetouchIQ: %d %s, %d failed: %s"), summary.edited, done, #summary.failed,
                        tostring(summary.failed[1].error))
  else
    msg = string.format(_("RetouchIQ: %d photo(s) %s"), summary.edited, done)
  end
  if cancelled then msg = msg .. " " .. _("(cancelled)") end
  show(msg)
  dt.print(msg .. (#images == 1 and summary.results[1] and "\n" .. said(summary.results[1]) or ""))
  return summary
end

local function apply(images, instruction, options)
  options = options or {}
  instruction = (instruction or ""):gsub("^%s+", ""):gsub("%s+$", "")
  if instruction == "" then
    local msg = _("type an instruction first")
    dt.print(msg)
    show(msg)
    return {edited = 0, failed = {}, results = {}, error = msg}
  end
  if images and #images > 0 and not busy then
    remember(instruction)
    show(_("working..."), nil, instruction)
  end
  return run_job(images, _("RetouchIQ: %d photo(s)"), _("edited"), function(cfg, job, report)
    if #images > 1 or options.consistent then
      return edit_roll(cfg, images, instruction, options.consistent, job, report)
    end
    local result, eerr = edit_one(cfg, images[1], instruction)
    if result then report(images[1], result) elseif job.valid then report(images[1], nil, eerr) end
    return true
  end)
end

-- Take the agent's last edit of each photo back (darktable's own undo: the history ends before it again, its
-- items stay above the end, a click on the top of the history stack brings them back).
local function undo(images)
  show(_("taking the agent's last edit back..."))
  return run_job(images, _("RetouchIQ undo: %d photo(s)"), _("undone"), function(cfg, job, report)
    for i, img in ipairs(images) do
      if not job.valid then break end
      local result, err = undo_one(cfg, img)
      report(img, result, err)
      job.percent = i / #images
    end
    return true
  end)
end

local function selected()
  return dt.gui.action_images
end

local function film_roll()
  local imgs = dt.gui.action_images
  local film = imgs[1] and imgs[1].film
  if not film then return {} end
  local all = {}
  for i = 1, #film do all[i] = film[i] end
  return all
end

local function run_panel(images)
  apply(images, ui.instruction.text, {consistent = ui.consistent.value})
end

local function build_panel()
  ui.instruction = dt.new_widget("entry"){
    placeholder = _("e.g. warmer, lift the shadows, darken the sky a little"),
    tooltip = _("what to change, in your own words"),
    editable = true,
  }
  ui.recent = dt.new_widget("combobox"){
    label = _("recent"),
    tooltip = _("choose an earlier instruction"),
    changed_callback = function(w)
      if w.value and w.value ~= "" then ui.instruction.text = w.value end
    end,
  }
  ui.consistent = dt.new_widget("check_button"){
    label = _("one look for all photos"),
    tooltip = _("edit several photos consistently (the same adjustments for the whole set)"),
    value = false,
  }
  ui.status = dt.new_widget("label"){label = "", ellipsize = "end", halign = "start"}
  ui.reasoning = dt.new_widget("text_view"){text = "", editable = false,
                                             tooltip = _("why the agent chose these edits")}

  ui.panel = dt.new_widget("box"){
    orientation = "vertical",
    ui.instruction,
    ui.recent,
    ui.consistent,
    dt.new_widget("box"){
      orientation = "horizontal",
      dt.new_widget("button"){label = _("apply to selected"),
                              tooltip = _("edit the selected photos"),
                              clicked_callback = function() run_panel(selected()) end},
      dt.new_widget("button"){label = _("apply to film roll"),
                              tooltip = _("edit every photo of the selected photo's film roll"),
                              clicked_callback = function() run_panel(film_roll()) end},
    },
    dt.new_widget("button"){label = _("undo the agent's last edit"),
                            tooltip = _("end the selected photos' history before the agent's last edit again "
                                        .. "(its items stay in the history stack: click the top one to redo)"),
                            clicked_callback = function() undo(selected()) end},
    ui.status,
    ui.reasoning,
  }
  show_recent(recent_list())
end

local lib_installed = false

local function install_lib()
  if lib_installed then return end
  build_panel()
  dt.register_lib(MODULE, "RetouchIQ", true, false,
    {[dt.gui.views.lighttable] = {"DT_UI_CONTAINER_PANEL_RIGHT_CENTER", 100},
     [dt.gui.views.darkroom] = {"DT_UI_CONTAINER_PANEL_LEFT_CENTER", 100}},
    ui.panel, nil, nil)
  lib_installed = true
end

local function on_shortcut()
  run_panel(selected())
end

-- darktable 4.2 runs widget calls (and preference registration, which builds widgets) on its GUI thread, but
-- such a call made while darktable is still starting up (before its main loop runs) can run on the calling
-- thread instead and deadlock there (caught with gdb under load in tests/test_gui.py). So nothing of the kind
-- happens while luarc runs: preferences and panel come once start-up has settled (some seconds after loading
-- and after the last view switch: opening a photo in darkroom is part of start-up), in the background; `ready`
-- says when. As darktable's example scripts do, the lib is registered while lighttable shows (started in
-- darkroom, the plugin steps out to lighttable and back for it).
local since_load, since_switch = 0, 0 -- ms, counted in start()'s sleeps

local function on_view_changed(event, old, new)
  since_switch = 0
  if script_data.ready and new.id == "lighttable" then install_lib() end
end

local function start()
  repeat
    dt.control.sleep(POLL_MS)
    since_load, since_switch = since_load + POLL_MS, since_switch + POLL_MS
  until since_load >= STARTUP_MS and since_switch >= SETTLE_MS
  register_preferences()
  local view = dt.gui.current_view()
  if view.id == "lighttable" then
    install_lib()
  elseif view.id == "darkroom" then
    -- darktable started with a photo open: registering a lib while darkroom shows deadlocks darktable 4.2, so
    -- lighttable shows for the moment it takes, then the same photo opens again
    local shown = view.display_image()
    if switch_view(dt.gui.views.lighttable) then
      install_lib()
      if shown then back_to_darkroom(shown) end
    end
  end
  script_data.ready = true
end

dt.register_event(MODULE .. "_view", "view-changed", on_view_changed)
dt.control.dispatch(start)
dt.register_event(MODULE .. "_apply", "shortcut", on_shortcut, _("RetouchIQ: apply to selected"))

script_data.destroy = function()
  if lib_installed then dt.gui.libs[MODULE].visible = false end
  dt.destroy_event(MODULE .. "_apply", "shortcut")
end
script_data.restart = function()
  if lib_installed then dt.gui.libs[MODULE].visible = true end
  dt.register_event(MODULE .. "_apply", "shortcut", on_shortcut, _("RetouchIQ: apply to selected"))
end
script_data.show = script_data.restart

script_data.apply = apply
script_data.undo = undo
-- what the panel's "recent" list shows (most recent first); for the tests and other scripts
script_data.recent_shown = function()
  local shown = {}
  if ui.recent then
    for i = 1, #ui.recent do shown[i] = ui.recent[i] end
  end
  return shown
end

return script_data
