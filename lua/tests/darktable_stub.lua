--[[
  A stand-in for darktable's Lua API 9.0.0, as much of it as the plugin touches, recording what the plugin
  does. stub.new{tmp_dir =, api_minor =, view =, hold_start =} gives a fresh `darktable` table (hold_start keeps
  the plugin's dispatched start-up in dt.held); stub.load(dt) loads the plugin against it and returns what
  `require "retouchiq"` returns.

  Commands go to dt.control.execute, which by default really runs them (curl included); a test replaces
  dt.handler(cmd) to answer instead of a server.
]]

local h = require "helpers"

local stub = {}

local function widget(kind)
  return function(props)
    local w = {kind = kind}
    for k, v in pairs(props or {}) do w[k] = v end
    return w
  end
end

function stub.new(opts)
  opts = opts or {}
  local dt = {
    printed = {}, logged = {}, imported = {}, attached = {}, applied_sidecars = {}, commands = {}, jobs = {},
    libs_registered = {}, events = {}, prefs = {}, defaults = {},
  }
  dt.configuration = {api_version_major = 9, api_version_minor = opts.api_minor or 0, api_version_patch = 0,
                      api_version_string = "9." .. (opts.api_minor or 0) .. ".0",
                      tmp_dir = opts.tmp_dir or h.tmpdir(), config_dir = "/nonexistent"}
  dt.gettext = {bindtextdomain = function() end, dgettext = function(_, s) return s end}
  dt.preferences = {
    register = function(script, name, kind, label, tooltip, default)
      dt.defaults[script .. "/" .. name] = default
    end,
    read = function(script, name, kind)
      local v = dt.prefs[script .. "/" .. name]
      if v == nil then v = dt.defaults[script .. "/" .. name] end
      if v == nil and kind == "string" then v = "" end
      return v
    end,
    write = function(script, name, kind, value) dt.prefs[script .. "/" .. name] = value end,
  }
  dt.print = function(msg) dt.printed[#dt.printed + 1] = msg end
  dt.print_log = function(msg) dt.logged[#dt.logged + 1] = msg end
  dt.print_error = dt.print_log
  dt.new_widget = widget
  dt.register_lib = function(name, ...) dt.libs_registered[#dt.libs_registered + 1] = {name, ...} end
  dt.register_event = function(name, kind, fn) dt.events[name .. "/" .. kind] = fn end
  dt.destroy_event = function(name, kind) dt.events[name .. "/" .. kind] = nil end
  local views = {lighttable = {id = "lighttable"}, darkroom = {id = "darkroom"}}
  local current = views[opts.view or "lighttable"]
  dt.visited = {}
  views.darkroom.display_image = function(img)
    if img then dt.shown = img end
    return dt.shown
  end
  dt.gui = {
    views = views,
    current_view = function(view)
      if view then
        current = view
        dt.visited[#dt.visited + 1] = view.id
      end
      return current
    end,
    selection = function(list) dt.selected = list end,
    action_images = {},
    libs = {retouchiq = {visible = true}},
    create_job = function(text, bar, cancel)
      local job = {text = text, percent = 0, valid = true, cancel = cancel}
      dt.jobs[#dt.jobs + 1] = job
      return job
    end,
  }
  -- export: copies the image's `source` (a test JPEG) unless the image says the export fails
  dt.new_format = function(kind)
    return {kind = kind, write_image = function(self, img, path)
      dt.exported = {format = self, path = path}
      if img.source then h.write(path, h.read(img.source)) end
      return false
    end}
  end
  dt.handler = h.system
  dt.control = {
    execute = function(cmd)
      dt.commands[#dt.commands + 1] = cmd
      return dt.handler(cmd)
    end,
    sleep = function() if dt.on_sleep then dt.on_sleep() end end,
    dispatch = function(fn, ...)
      if opts.hold_start then dt.held = fn else fn(...) end
    end,
  }
  dt.database = {import = function(path) dt.imported[#dt.imported + 1] = path end}
  dt.tags = {
    create = function(name) return {name = name} end,
    attach = function(tag, img) dt.attached[#dt.attached + 1] = {tag.name, img.filename} end,
  }
  return dt
end

-- An image in `dir` whose export gives the JPEG `source`; `sidecar` text is written next to it when given.
function stub.image(dt, dir, name, source, sidecar)
  dt.ids = (dt.ids or 0) + 1
  local img = {id = dt.ids, path = dir, filename = name, sidecar = dir .. "/" .. name .. ".xmp", source = source,
               is_altered = sidecar ~= nil, dropped = 0}
  img.drop_cache = function(self) self.dropped = self.dropped + 1 end
  img.apply_sidecar = function(self, path) dt.applied_sidecars[#dt.applied_sidecars + 1] = path end
  if sidecar then h.write(img.sidecar, sidecar) end
  return img
end

function stub.load(dt)
  package.loaded["darktable"] = dt
  package.loaded["retouchiq"] = nil
  return require "retouchiq"
end

return stub
