--[[
  retouchiq/json.lua: the small JSON codec the RetouchIQ plugin needs (darktable ships no JSON library).

  json.encode(value) -> string   tables with keys 1..n are arrays, other tables objects (keys sorted, so
                                 the output is stable); json.null stands for null
  json.decode(text) -> value     or nil, "message at byte N"; null decodes to json.null

  Copyright (C) 2026 the RetouchIQ authors. GPL-3.0-or-later.
]]

local json = {}

json.null = setmetatable({}, {__tostring = function() return "null" end})

local ESCAPES = {['"'] = '\\"', ['\\'] = '\\\\', ['\b'] = '\\b', ['\f'] = '\\f', ['\n'] = '\\n',
                 ['\r'] = '\\r', ['\t'] = '\\t'}

local function encode_string(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    return ESCAPES[c] or string.format("\\u%04x", c:byte())
  end) .. '"'
end

local function is_array(t)
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  for i = 1, n do
    if t[i] == nil then return false end
  end
  return true, n
end

local encode

local function encode_table(t, seen)
  if seen[t] then error("json.encode: cyclic table") end
  seen[t] = true
  local out = {}
  local array, n = is_array(t)
  if array and n > 0 then
    for i = 1, n do out[i] = encode(t[i], seen) end
    seen[t] = nil
    return "[" .. table.concat(out, ",") .. "]"
  end
  local keys = {}
  for k in pairs(t) do
    if type(k) ~= "string" then error("json.encode: object keys must be strings, got " .. type(k)) end
    keys[#keys + 1] = k
  end
  table.sort(keys)
  for i, k in ipairs(keys) do out[i] = encode_string(k) .. ":" .. encode(t[k], seen) end
  seen[t] = nil
  return "{" .. table.concat(out, ",") .. "}"
end

encode = function(v, seen)
  local kind = type(v)
  if v == nil or v == json.null then return "null"
  elseif kind == "boolean" then return tostring(v)
  elseif kind == "number" then
    if v ~= v or v == math.huge or v == -math.huge then error("json.encode: " .. tostring(v) .. " is not JSON") end
    if math.type(v) == "integer" then return tostring(v) end
    return string.format("%.17g", v)
  elseif kind == "string" then return encode_string(v)
  elseif kind == "table" then return encode_table(v, seen)
  end
  error("json.encode: cannot encode a " .. kind)
end

function json.encode(v) return encode(v, {}) end

-- decoding: a recursive descent parser over byte positions; errors are raised as {msg} and caught in decode

local function fail(pos, msg) error({msg = msg .. " at byte " .. pos}, 0) end

local function skip(s, pos) return s:find("[^ \t\r\n]", pos) or #s + 1 end

local function utf8_char(code) return utf8.char(code) end

local decode_value

local function decode_string(s, pos)
  local out, i = {}, pos + 1
  while true do
    local j = s:find('["\\%c]', i)
    if not j then fail(pos, "unterminated string") end
    out[#out + 1] = s:sub(i, j - 1)
    local c = s:sub(j, j)
    if c == '"' then return table.concat(out), j + 1 end
    if c ~= "\\" then fail(j, "control character in string") end
    local e = s:sub(j + 1, j + 1)
    local simple = ({['"'] = '"', ['\\'] = '\\', ['/'] = '/', b = '\b', f = '\f', n = '\n', r = '\r', t = '\t'})[e]
    if simple then
      out[#out + 1], i = simple, j + 2
    elseif e == "u" then
      local hex = s:match("^%x%x%x%x", j + 2)
      if not hex then fail(j, "bad \\u escape") end
      local code = tonumber(hex, 16)
      i = j + 6
      if code >= 0xD800 and code <= 0xDBFF then
        local low = s:match("^\\u(%x%x%x%x)", i)
        low = low and tonumber(low, 16)
        if not low or low < 0xDC00 or low > 0xDFFF then fail(j, "unpaired surrogate") end
        code, i = 0x10000 + (code - 0xD800) * 0x400 + (low - 0xDC00), i + 6
      end
      out[#out + 1] = utf8_char(code)
    else
      fail(j, "bad escape")
    end
  end
end

local function decode_number(s, pos)
  local text = s:match("^-?%d+%.?%d*[eE]?[-+]?%d*", pos)
  local n = text and tonumber(text)
  if not n or not text:match("^-?0[%.eE]") and text:match("^-?0%d") then fail(pos, "bad number") end
  return n, pos + #text
end

local function decode_array(s, pos, depth)
  local out, n = {}, 0
  pos = skip(s, pos + 1)
  if s:sub(pos, pos) == "]" then return out, pos + 1 end
  while true do
    local v
    v, pos = decode_value(s, pos, depth)
    n = n + 1
    out[n] = v
    pos = skip(s, pos)
    local c = s:sub(pos, pos)
    if c == "]" then return out, pos + 1 end
    if c ~= "," then fail(pos, "expected ',' or ']'") end
    pos = skip(s, pos + 1)
  end
end

local function decode_object(s, pos, depth)
  local out = {}
  pos = skip(s, pos + 1)
  if s:sub(pos, pos) == "}" then return out, pos + 1 end
  while true do
    if s:sub(pos, pos) ~= '"' then fail(pos, "expected a string key") end
    local k
    k, pos = decode_string(s, pos)
    pos = skip(s, pos)
    if s:sub(pos, pos) ~= ":" then fail(pos, "expected ':'") end
    out[k], pos = decode_value(s, skip(s, pos + 1), depth)
    pos = skip(s, pos)
    local c = s:sub(pos, pos)
    if c == "}" then return out, pos + 1 end
    if c ~= "," then fail(pos, "expected ',' or '}'") end
    pos = skip(s, pos + 1)
  end
end

local LITERALS = {["true"] = true, ["false"] = false, null = json.null}

decode_value = function(s, pos, depth)
  if depth > 200 then fail(pos, "nested too deeply") end
  local c = s:sub(pos, pos)
  if c == "{" then return decode_object(s, pos, depth + 1)
  elseif c == "[" then return decode_array(s, pos, depth + 1)
  elseif c == '"' then return decode_string(s, pos)
  elseif c == "-" or c:match("%d") then return decode_number(s, pos)
  end
  for word, v in pairs(LITERALS) do
    if s:sub(pos, pos + #word - 1) == word then return v, pos + #word end
  end
  fail(pos, c == "" and "unexpected end of text" or "unexpected '" .. c .. "'")
end

function json.decode(text)
  if type(text) ~= "string" then return nil, "not text" end
  local ok, v, pos = pcall(function()
    local v, pos = decode_value(text, skip(text, 1), 0)
    return v, skip(text, pos)
  end)
  if not ok then
    if type(v) == "table" then return nil, v.msg end
    error(v, 0)
  end
  if pos <= #text then return nil, "trailing text at byte " .. pos end
  return v
end

return json
