-- A strict JSON (RFC 8259) reader for the gateway's Lua checks (gateway/request_checks.lua, which
-- gateway/request_checks.py renders after this file into one script).
--
-- new_reader(text) walks a document without building it: the checks read only the fields the
-- request message names and skip the rest, allocating nothing for what they skip. decode(text)
-- builds the whole document, for small ones (the transcoder's error replies, the unit tests).
--
-- Written for LuaJIT on bodies of up to 512 KiB: Lua patterns with character classes cost
-- ~25 ns a byte (they are not compiled), so strings are scanned with plain finds (memchr) and
-- numbers and whitespace with string.byte loops, which the JIT compiles.

local MAX_DEPTH = 64
local NULL = setmetatable({}, { __tostring = function() return "null" end })

local byte, char, find, sub = string.byte, string.char, string.find, string.sub

-- Bytes JSON never allows unescaped (\t \n \r only as whitespace between tokens).
local FORBIDDEN_CONTROLS = {}
for code = 0, 31 do
  if code ~= 9 and code ~= 10 and code ~= 13 then
    FORBIDDEN_CONTROLS[#FORBIDDEN_CONTROLS + 1] = char(code)
  end
end
local ESCAPES = { [34] = '"', [92] = "\\", [47] = "/", [98] = "\b", [102] = "\f", [110] = "\n",
  [114] = "\r", [116] = "\t" }
local LITERALS = { [116] = { "true", true }, [102] = { "false", false }, [110] = { "null", NULL } }
local KINDS = { [123] = "object", [91] = "array", [34] = "string", [116] = "boolean",
  [102] = "boolean", [110] = "null", [45] = "number" }
for digit = 48, 57 do
  KINDS[digit] = "number"
end

local function utf8_char(code)
  if code < 0x80 then
    return char(code)
  elseif code < 0x800 then
    return char(0xC0 + math.floor(code / 0x40), 0x80 + code % 0x40)
  elseif code < 0x10000 then
    return char(0xE0 + math.floor(code / 0x1000), 0x80 + math.floor(code / 0x40) % 0x40,
      0x80 + code % 0x40)
  end
  return char(0xF0 + math.floor(code / 0x40000), 0x80 + math.floor(code / 0x1000) % 0x40,
    0x80 + math.floor(code / 0x40) % 0x40, 0x80 + code % 0x40)
end

-- A reader over `text`. Its errors are raised as { json_error = "what at byte offset N" }.
--   kind()                 the kind of the next value ("object", "array", "string", "number",
--                          "boolean", "null"), not consuming it
--   skip(depth)            consumes the next value, checking it, building nothing
--   string(keep)           consumes a string: its text if `keep`, else ""
--   scalar(keep)           consumes a number (its value if `keep`), true, false or null (NULL)
--   members(depth, visit)  consumes an object, calling visit(key, depth) with the reader at
--                          each member's value, which visit must consume
--   items(depth, visit)    consumes an array, calling visit(index, depth) for each element
--   finish()               only whitespace may follow
local function new_reader(text)
  local pos = 1
  local len = #text
  local next_cache = {}
  local reader = {}

  local function fail(what)
    error({ json_error = what .. " at byte offset " .. (pos - 1) }, 0)
  end

  -- The next position of `needle` at or after `from`; positions only grow, so each needle's
  -- scan goes over the text once.
  local function next_of(needle, from)
    local at = next_cache[needle]
    if at == nil or (at and at < from) then
      at = find(text, needle, from, true) or false
      next_cache[needle] = at
    end
    return at
  end

  for _, control in ipairs(FORBIDDEN_CONTROLS) do
    local at = find(text, control, 1, true)
    if at then
      pos = at
      fail("control character (escape it in a string)")
    end
  end

  local function skip_space()
    local c = byte(text, pos)
    while c == 32 or c == 10 or c == 13 or c == 9 do
      pos = pos + 1
      c = byte(text, pos)
    end
  end

  local function digits_from(at)
    local c = byte(text, at)
    while c and c >= 48 and c <= 57 do
      at = at + 1
      c = byte(text, at)
    end
    return at
  end

  local function hex4(at)
    local value = 0
    for k = at, at + 3 do
      local c = byte(text, k)
      local digit
      if c and c >= 48 and c <= 57 then
        digit = c - 48
      elseif c and c >= 65 and c <= 70 then
        digit = c - 55
      elseif c and c >= 97 and c <= 102 then
        digit = c - 87
      else
        pos = at
        fail("expected four hex digits after \\u")
      end
      value = value * 16 + digit
    end
    return value
  end

  -- One escape at `at` (a backslash): the position after it, and its text if `keep`.
  local function escape(at, keep)
    local e = byte(text, at + 1)
    if ESCAPES[e] then
      return at + 2, ESCAPES[e]
    elseif e ~= 117 then -- not \u
      pos = at
      fail("invalid escape in a string")
    end
    local code = hex4(at + 2)
    local after = at + 6
    if code >= 0xD800 and code <= 0xDBFF then
      local low = byte(text, after) == 92 and byte(text, after + 1) == 117 and hex4(after + 2)
      if not low or low < 0xDC00 or low > 0xDFFF then
        pos = at
        fail("unpaired UTF-16 surrogate in \\u escape")
      end
      code = 0x10000 + (code - 0xD800) * 0x400 + (low - 0xDC00)
      after = after + 6
    elseif code >= 0xDC00 and code <= 0xDFFF then
      pos = at
      fail("unpaired UTF-16 surrogate in \\u escape")
    end
    return after, keep and utf8_char(code)
  end

  -- The earliest of the positions given (false or nil for none), or false.
  local function earliest(a, b, c)
    local first = a
    if b and (not first or b < first) then
      first = b
    end
    if c and (not first or c < first) then
      first = c
    end
    return first
  end

  function reader.string(keep)
    local parts = keep and {} or nil
    local start = pos + 1
    local i = start
    local quote = next_of('"', i)
    while true do
      if not quote then
        fail("unterminated string")
      end
      local backslash = next_of("\\", i)
      if not backslash or backslash > quote then
        break
      end
      if keep then
        parts[#parts + 1] = sub(text, i, backslash - 1)
      end
      local decoded
      i, decoded = escape(backslash, keep)
      if keep then
        parts[#parts + 1] = decoded
      end
      if i > quote then -- that quote was escaped (\"): the string goes on
        quote = next_of('"', i)
      end
    end
    -- Escapes hold no raw bytes, so a raw \t, \n or \r before the closing quote is in the text.
    local control = earliest(next_of("\t", start), next_of("\n", start), next_of("\r", start))
    if control and control < quote then
      pos = control
      fail("control character in a string (escape it)")
    end
    pos = quote + 1
    if keep then
      parts[#parts + 1] = sub(text, i, quote - 1)
      return table.concat(parts)
    end
    return ""
  end

  local function number(keep)
    local start = pos
    if byte(text, pos) == 45 then -- -
      pos = pos + 1
    end
    local after = digits_from(pos)
    if after == pos then
      fail("unexpected character")
    elseif after - pos > 1 and byte(text, pos) == 48 then
      fail("number with a leading zero")
    end
    pos = after
    if byte(text, pos) == 46 then -- .
      after = digits_from(pos + 1)
      if after == pos + 1 then
        pos = pos + 1
        fail("expected digits after the decimal point")
      end
      pos = after
    end
    local e = byte(text, pos)
    if e == 101 or e == 69 then -- e E
      local at = pos + 1
      local sign = byte(text, at)
      if sign == 43 or sign == 45 then
        at = at + 1
      end
      after = digits_from(at)
      if after == at then
        pos = at
        fail("expected digits in the exponent")
      end
      pos = after
    end
    return keep and tonumber(sub(text, start, pos - 1))
  end

  -- A number's value only if `keep` (skipping one builds no string).
  function reader.scalar(keep)
    local literal = LITERALS[byte(text, pos)]
    if not literal then
      return number(keep)
    end
    if sub(text, pos, pos + #literal[1] - 1) ~= literal[1] then
      fail("unexpected character")
    end
    pos = pos + #literal[1]
    return literal[2]
  end

  function reader.kind()
    skip_space()
    local c = byte(text, pos)
    if c == nil then
      fail("unexpected end of the body")
    end
    return KINDS[c] or fail("unexpected character")
  end

  -- Past a container's opening bracket: true if it closes at once (`closer`: } or ]).
  local function open(depth, closer)
    if depth > MAX_DEPTH then
      fail("nested deeper than " .. MAX_DEPTH .. " levels")
    end
    pos = pos + 1
    skip_space()
    if byte(text, pos) == closer then
      pos = pos + 1
      return true
    end
    return false
  end

  -- After a member or an element: true at the container's end, false past a comma.
  local function closed(closer, expected)
    skip_space()
    local c = byte(text, pos)
    if c == closer then
      pos = pos + 1
      return true
    elseif c ~= 44 then -- ,
      fail(expected)
    end
    pos = pos + 1
    skip_space()
    return false
  end

  -- `keep_keys` false: the keys are checked, not built (skip needs no names).
  local function members(depth, visit, keep_keys)
    if open(depth, 125) then -- }
      return
    end
    repeat
      if byte(text, pos) ~= 34 then
        fail("expected a double-quoted key")
      end
      local key = reader.string(keep_keys)
      skip_space()
      if byte(text, pos) ~= 58 then -- :
        fail("expected ':' after a key")
      end
      pos = pos + 1
      visit(key, depth)
    until closed(125, "expected ',' or '}' in an object")
  end

  function reader.members(depth, visit)
    members(depth, visit, true)
  end

  function reader.items(depth, visit)
    if open(depth, 93) then -- ]
      return
    end
    local index = 0
    repeat
      index = index + 1
      visit(index, depth)
    until closed(93, "expected ',' or ']' in an array")
  end

  local skip_child

  function reader.skip(depth)
    local kind = reader.kind()
    if kind == "object" then
      members(depth, skip_child, false)
    elseif kind == "array" then
      reader.items(depth, skip_child)
    elseif kind == "string" then
      reader.string(false)
    else
      reader.scalar()
    end
  end

  -- One function for every skipped member and element: nothing is allocated per value.
  skip_child = function(_, depth)
    reader.skip(depth + 1)
  end

  function reader.finish()
    skip_space()
    if pos <= len then
      fail("unexpected data after the JSON value")
    end
  end

  return reader
end

-- The whole document: objects as { kind = "object", keys = { in order, repeats kept },
-- values = { key -> value } }, arrays as { kind = "array", items = { ... } }, null as NULL,
-- strings, numbers and booleans as themselves.
local function decode(text)
  local reader = new_reader(text)
  local function value(depth)
    local kind = reader.kind()
    if kind == "object" then
      local keys, values = {}, {}
      reader.members(depth, function(key, d)
        keys[#keys + 1] = key
        values[key] = value(d + 1)
      end)
      return { kind = "object", keys = keys, values = values }
    elseif kind == "array" then
      local items = {}
      reader.items(depth, function(index, d)
        items[index] = value(d + 1)
      end)
      return { kind = "array", items = items }
    elseif kind == "string" then
      return reader.string(true)
    end
    return reader.scalar(true)
  end
  local document = value(1)
  reader.finish()
  return document
end

local function kind_of(value)
  local t = type(value)
  if t == "table" then
    return value == NULL and "null" or value.kind
  end
  return t -- "string", "number" or "boolean"
end

local function json_string(s)
  return '"' .. (string.gsub(s, '[%z\1-\31"\\]', function(c)
    if c == '"' or c == "\\" then
      return "\\" .. c
    end
    return string.format("\\u%04x", byte(c))
  end)) .. '"'
end
