-- The plugin (darktable stubbed) with real curl against a real `retouchiq serve --policy rules`, whose URL
-- tests/test_lua.py passes in RETOUCHIQ_TEST_URL.
local h = require "helpers"
local stub = require "darktable_stub"

local JPEG = "tests/data/photos/picosdeeuropa_by_Aitzol_Berasategi.jpg"

local function setup()
  local url = os.getenv("RETOUCHIQ_TEST_URL")
  assert(url, "RETOUCHIQ_TEST_URL is not set (tests/test_lua.py starts the server and sets it)")
  local dt = stub.new({tmp_dir = h.tmpdir()})
  dt.prefs["retouchiq/server_url"] = url
  dt.prefs["retouchiq/preview_size"] = 256
  return dt, stub.load(dt), h.tmpdir()
end

local function agent_sidecar(text)
  h.has(text, 'darktable:operation="exposure"', "exposure")
  h.has(text, 'darktable:multi_name="retouchiq', "the agent's instance")
end

return {
  {"one photo through the real server", function()
    local dt, plugin, dir = setup()
    local img = stub.image(dt, dir, "a.jpg", JPEG)
    local r = plugin.apply({img}, "make it brighter and warmer", {})
    h.eq(r.error, nil, "error")
    h.eq(r.edited, 1, "edited")
    h.has(r.results[1].reasoning, "EV", "reasoning")
    agent_sidecar(h.read(img.sidecar))
    -- a second instruction goes on top: the first sidecar is sent, kept as a backup, and extended
    local first = h.read(img.sidecar)
    r = plugin.apply({img}, "a bit darker", {})
    h.eq(r.edited, 1, "second edit")
    h.eq(h.read(r.results[1].backup), first, "backup of the first edit")
    local _, count = h.read(img.sidecar):gsub('darktable:operation="exposure"', "")
    h.eq(count, 2, "both exposure instances")
  end},

  {"the agent's last edit taken back through the real server", function()
    local dt, plugin, dir = setup()
    local img = stub.image(dt, dir, "a.jpg", JPEG)
    h.eq(plugin.apply({img}, "warmer", {}).edited, 1, "first edit")
    local first = h.read(img.sidecar)
    os.execute("sleep 1.1") -- the second edit's backup in a second of its own (they sort right within one too)
    h.eq(plugin.apply({img}, "a bit darker", {}).edited, 1, "second edit")
    local r = plugin.undo({img})
    h.eq(r.error, nil, "error")
    h.eq(r.edited, 1, "undone")
    h.has(r.results[1].summary, "exposure 'retouchiq a bit darker'", "what was taken back")
    local text = h.read(img.sidecar)
    h.has(first, 'darktable:history_end="1"', "one item after the first edit")
    h.has(text, 'darktable:history_end="1"', "the history ends where the first edit ended")
    h.has(text, 'darktable:multi_name="retouchiq a bit darker"', "the undone item kept above the end")
    r = plugin.undo({img})
    h.eq(r.edited, 1, "the edit before")
    h.has(h.read(img.sidecar), 'darktable:history_end="0"', "back to no edit")
    r = plugin.undo({img})
    h.eq(r.edited, 0, "nothing more")
    h.has(r.failed[1].error, "HTTP 409: nothing to undo", "said why")
    local none = stub.image(dt, dir, "b.jpg", JPEG)
    r = plugin.undo({none})
    h.has(r.failed[1].error, "b.jpg has no sidecar: nothing to undo", "no sidecar")
  end},

  {"a roll through the real server", function()
    local dt, plugin, dir = setup()
    local a = stub.image(dt, dir, "a.jpg", JPEG)
    local b = stub.image(dt, dir, "b.jpg", JPEG)
    local r = plugin.apply({a, b}, "warmer", {})
    h.eq(r.error, nil, "error")
    h.eq(r.edited, 2, "edited")
    h.has(h.read(a.sidecar), 'darktable:operation="channelmixerrgb"', "a")
    h.has(h.read(b.sidecar), 'darktable:operation="channelmixerrgb"', "b")
    h.eq(dt.jobs[1].percent, 1.0, "progress")
  end},

  {"the server's refusals reach the photographer", function()
    local dt, plugin, dir = setup()
    local a = stub.image(dt, dir, "a.jpg", JPEG)
    local b = stub.image(dt, dir, "b.jpg", JPEG)
    local r = plugin.apply({a, b}, "warmer", {consistent = true})
    h.has(r.error, "HTTP 422: a consistent roll needs the compact policy", "consistent roll with rules")
    local text = stub.image(dt, dir, "c.jpg", "lua/retouchiq.lua")
    r = plugin.apply({text}, "warmer", {})
    h.has(r.failed[1].error, "HTTP 400: preview: not a JPEG or PNG image", "not an image")
    h.eq(h.read(a.sidecar) or h.read(text.sidecar), nil, "nothing written")
  end},
}
