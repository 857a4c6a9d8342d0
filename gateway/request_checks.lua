-- Strict JSON checks in front of the gRPC-JSON transcoder (envoy.yaml runs this as a Lua filter).
--
-- The transcoder reads request bodies with protobuf's lenient JSON parser: an object where a
-- google.protobuf.ListValue belongs becomes an empty list (a PUT that silently cleared the tags),
-- a bare string where a list belongs a one-element list, "yes" a bool; single quotes, unquoted
-- keys and trailing commas pass. And its own 400s name the field only inside the message.
--
-- So, on every route with a JSON body, this script reads the body as strict JSON (RFC 8259) and
-- checks each field's JSON type against the request message; a mismatch is answered 400 with
-- google.rpc.BadRequest field violations, in the services' own error shape, before anything
-- reaches a service. On the way back it gives the transcoder's own 400s (a bad query parameter,
-- an unknown enum name, an integer out of range) the field violation they lack.
--
-- SCHEMA (routes, messages, enums, the JSON size cap) is prepended by gateway/request_checks.py
-- from the protos' descriptor, the transcoder's own. The functions above the Envoy entry points
-- are plain Lua, unit-tested without Envoy (tests/unit/test_request_checks.py).

local MAX_DEPTH = 64
local MAX_VIOLATIONS = 20
local NULL = setmetatable({}, { __tostring = function() return "null" end })

-- Strict JSON -------------------------------------------------------------------------------

local byte, char, find, sub = string.byte, string.char, string.find, string.sub

-- Bytes JSON never allows unescaped (whitespace's \t \n \r only between tokens).
local FORBIDDEN_CONTROLS = {}
for code = 0, 31 do
  if code ~= 9 and code ~= 10 and code ~= 13 then
    FORBIDDEN_CONTROLS[#FORBIDDEN_CONTROLS + 1] = char(code)
  end
end
local SPACE_CONTROLS = { "\t", "\n", "\r" }
local ESCAPES = { [34] = '"', [92] = "\\", [47] = "/", [98] = "\b", [102] = "\f", [110] = "\n",
  [114] = "\r", [116] = "\t" }
local LITERALS = { [116] = { "true", true }, [102] = { "false", false }, [110] = { "null", NULL } }

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

-- Objects decode to { kind = "object", keys = { in order, repeats kept }, values = { key -> value } },
-- arrays to { kind = "array", items = { ... } }, null to NULL, numbers and booleans to themselves;
-- strings to themselves when `keep_strings`, else to "" (keys are always kept). Errors are
-- raised as { json_error = "..." }.
--
-- Written for LuaJIT on a 1 MiB body: Lua patterns with character classes cost ~25 ns a byte
-- (not compiled), so strings are scanned with plain finds (memchr) and numbers and whitespace
-- with string.byte loops, which the JIT compiles.
local function decode(text, keep_strings)
  local pos = 1
  local len = #text
  local next_cache = {}

  local function fail(what)
    error({ json_error = what .. " at byte offset " .. (pos - 1) }, 0)
  end

  -- The next position of `needle` at or after `from` (positions only grow: one scan each).
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

  local function parse_string(keep)
    local parts = keep and {} or nil
    local i = pos + 1
    while true do
      local quote = next_of('"', i)
      if not quote then
        fail("unterminated string")
      end
      local backslash = next_of("\\", i)
      local stop = (backslash and backslash < quote) and backslash or quote
      for _, control in ipairs(SPACE_CONTROLS) do
        local at = next_of(control, i)
        if at and at < stop then
          pos = at
          fail("control character in a string (escape it)")
        end
      end
      if keep then
        parts[#parts + 1] = sub(text, i, stop - 1)
      end
      if stop == quote then
        pos = quote + 1
        return keep and table.concat(parts) or ""
      end
      local e = byte(text, stop + 1)
      if ESCAPES[e] then
        if keep then
          parts[#parts + 1] = ESCAPES[e]
        end
        i = stop + 2
      elseif e == 117 then -- \uXXXX
        local code = hex4(stop + 2)
        i = stop + 6
        if code >= 0xD800 and code <= 0xDBFF then
          local low = byte(text, i) == 92 and byte(text, i + 1) == 117 and hex4(i + 2) or nil
          if not low or low < 0xDC00 or low > 0xDFFF then
            pos = stop
            fail("unpaired UTF-16 surrogate in \\u escape")
          end
          code = 0x10000 + (code - 0xD800) * 0x400 + (low - 0xDC00)
          i = i + 6
        elseif code >= 0xDC00 and code <= 0xDFFF then
          pos = stop
          fail("unpaired UTF-16 surrogate in \\u escape")
        end
        if keep then
          parts[#parts + 1] = utf8_char(code)
        end
      else
        pos = stop
        fail("invalid escape in a string")
      end
    end
  end

  local function parse_number()
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
    return tonumber(sub(text, start, pos - 1))
  end

  local parse_value

  local function parse_object(depth)
    local keys, values = {}, {}
    pos = pos + 1
    skip_space()
    if byte(text, pos) == 125 then -- }
      pos = pos + 1
      return { kind = "object", keys = keys, values = values }
    end
    while true do
      if byte(text, pos) ~= 34 then
        fail("expected a double-quoted key")
      end
      local key = parse_string(true)
      skip_space()
      if byte(text, pos) ~= 58 then -- :
        fail("expected ':' after a key")
      end
      pos = pos + 1
      keys[#keys + 1] = key
      values[key] = parse_value(depth + 1)
      skip_space()
      local c = byte(text, pos)
      if c == 125 then
        pos = pos + 1
        return { kind = "object", keys = keys, values = values }
      elseif c ~= 44 then -- ,
        fail("expected ',' or '}' in an object")
      end
      pos = pos + 1
      skip_space()
    end
  end

  local function parse_array(depth)
    local items = {}
    pos = pos + 1
    skip_space()
    if byte(text, pos) == 93 then -- ]
      pos = pos + 1
      return { kind = "array", items = items }
    end
    while true do
      items[#items + 1] = parse_value(depth + 1)
      skip_space()
      local c = byte(text, pos)
      if c == 93 then
        pos = pos + 1
        return { kind = "array", items = items }
      elseif c ~= 44 then
        fail("expected ',' or ']' in an array")
      end
      pos = pos + 1
    end
  end

  parse_value = function(depth)
    if depth > MAX_DEPTH then
      fail("nested deeper than " .. MAX_DEPTH .. " levels")
    end
    skip_space()
    local c = byte(text, pos)
    if c == 123 then -- {
      return parse_object(depth)
    elseif c == 91 then -- [
      return parse_array(depth)
    elseif c == 34 then -- "
      return parse_string(keep_strings)
    elseif c == nil then
      fail("unexpected end of the body")
    end
    local literal = LITERALS[c]
    if literal then
      if sub(text, pos, pos + #literal[1] - 1) ~= literal[1] then
        fail("unexpected character")
      end
      pos = pos + #literal[1]
      return literal[2]
    end
    return parse_number()
  end

  local value = parse_value(1)
  skip_space()
  if pos <= len then
    fail("unexpected data after the JSON value")
  end
  return value
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
    return string.format("\\u%04x", string.byte(c))
  end)) .. '"'
end

-- The services' error shape: {"code", "message", "details"} with one google.rpc.BadRequest.
local function error_json(code, message, violations)
  local details = "[]"
  if violations and #violations > 0 then
    local parts = {}
    for i, v in ipairs(violations) do
      parts[i] = '{"field":' .. json_string(v.field) .. ',"description":'
        .. json_string(v.description) .. ',"reason":""}'
    end
    details = '[{"@type":"type.googleapis.com/google.rpc.BadRequest","fieldViolations":['
      .. table.concat(parts, ",") .. "]}]"
  end
  return '{"code":' .. code .. ',"message":' .. json_string(message) .. ',"details":' .. details .. "}"
end

local function invalid_argument(violations)
  local summary = {}
  for i, v in ipairs(violations) do
    summary[i] = v.field .. ": " .. v.description
  end
  return error_json(3, "invalid request: " .. table.concat(summary, "; "), violations)
end

-- Field types ---------------------------------------------------------------------------------

local check_message

-- A field spec (from SCHEMA) has `accepts` (the JSON kinds allowed; null always is: proto3 reads
-- it as "not set"), `expect` (what to say otherwise), and `item` (repeated: each element),
-- `map_value` (a map's values) or `message` (an object checked field by field).
local function check_field(spec, value, path, violations, depth)
  if #violations >= MAX_VIOLATIONS then
    return
  end
  local kind = kind_of(value)
  if kind == "null" then
    return
  end
  if not spec.accepts[kind] then
    violations[#violations + 1] = { field = path, description = spec.expect }
    return
  end
  if spec.item then
    local item_spec = spec.item
    local nested = item_spec.item or item_spec.map_value or item_spec.message
    for i, item in ipairs(value.items) do
      local item_kind = kind_of(item)
      -- The element's path ("tags[3]") is built only when it is needed: a long list of
      -- well-typed scalars costs one lookup each.
      if item_kind == "null" then
        violations[#violations + 1] = { field = path .. "[" .. (i - 1) .. "]",
          description = "must not be null" }
      elseif nested or not item_spec.accepts[item_kind] then
        check_field(item_spec, item, path .. "[" .. (i - 1) .. "]", violations, depth + 1)
      end
      if #violations >= MAX_VIOLATIONS then
        return
      end
    end
  elseif spec.map_value then
    for _, key in ipairs(value.keys) do
      check_field(spec.map_value, value.values[key], path .. "[" .. json_string(key) .. "]",
        violations, depth + 1)
    end
  elseif spec.message then
    check_message(spec.message, value, path .. ".", violations, depth + 1)
  end
end

-- Unknown keys are left alone: the transcoder drops them (servers tolerate newer clients).
check_message = function(name, object, prefix, violations, depth)
  local fields = SCHEMA.messages[name]
  if not fields or depth > MAX_DEPTH then
    return
  end
  local seen = {}
  for _, key in ipairs(object.keys) do
    local spec = fields[key]
    if spec then
      local path = prefix .. spec.name
      if seen[spec.name] then
        violations[#violations + 1] = { field = path, description = "is given more than once" }
      else
        seen[spec.name] = true
        check_field(spec, object.values[key], path, violations, depth)
      end
    end
  end
end

-- The request ---------------------------------------------------------------------------------

local function route_for(method, raw_path)
  local path = string.match(raw_path or "", "^[^?#]*")
  for _, route in ipairs(SCHEMA.routes) do
    if route.method == method and string.find(path, route.pattern) then
      return route
    end
  end
  return nil
end

local function too_large()
  return 413, error_json(8, "request body too large: a JSON body may be at most "
    .. SCHEMA.max_json_bytes .. " bytes")
end

-- Returns nil when the body may go on, or the HTTP status and JSON body to answer with.
local function check_body(route, text)
  if #text > SCHEMA.max_json_bytes then
    return too_large()
  end
  if text == "" then
    return nil -- no body: the transcoder reads it as an empty message
  end
  local ok, document = pcall(decode, text, false)
  if not ok then
    if type(document) == "table" and document.json_error then
      return 400, error_json(3, "request body is not valid JSON: " .. document.json_error)
    end
    error(document, 0)
  end
  if kind_of(document) ~= "object" then
    return 400, error_json(3, "request body must be a JSON object")
  end
  local violations = {}
  check_message(route.message, document, "", violations, 1)
  if #violations > 0 then
    return 400, invalid_argument(violations)
  end
  return nil
end

-- The transcoder's own 400s -------------------------------------------------------------------

local TYPE_DESCRIPTIONS = {
  TYPE_INT32 = "must be a whole number from -2147483648 to 2147483647",
  TYPE_SINT32 = "must be a whole number from -2147483648 to 2147483647",
  TYPE_SFIXED32 = "must be a whole number from -2147483648 to 2147483647",
  TYPE_UINT32 = "must be a whole number from 0 to 4294967295",
  TYPE_FIXED32 = "must be a whole number from 0 to 4294967295",
  TYPE_INT64 = "must be a whole number",
  TYPE_SINT64 = "must be a whole number",
  TYPE_SFIXED64 = "must be a whole number",
  TYPE_UINT64 = "must be a whole number from 0",
  TYPE_FIXED64 = "must be a whole number from 0",
  TYPE_DOUBLE = "must be a number",
  TYPE_FLOAT = "must be a number",
  TYPE_BOOL = "must be true or false",
  TYPE_STRING = "must be a string",
  TYPE_BYTES = "must be base64",
  ["google.protobuf.Timestamp"] = "must be an RFC 3339 timestamp, e.g. 2026-01-31T09:00:00Z",
  ["google.protobuf.Duration"] = "must be a duration in seconds, e.g. 1.5s",
}

-- The field and the reason in one of the transcoder's messages, or nil for any other message.
local function violation_from_transcoder(message)
  local unknown = string.match(message, '^Could not find field "(.-)" in the type ".-"%.$')
  if unknown then
    return unknown, "is not a parameter of this request"
  end
  local repeated = string.match(message, "^: invalid value oneof field '_([%w_]+)' is already set")
  if repeated then
    return repeated, "is given more than once"
  end
  local field, problem = string.match(message, "^([%a_][%w_%.]*): (.*)$")
  if not field then
    return nil
  end
  local type_name = string.match(problem, "for type type%.googleapis%.com/([%w_%.]+)$")
    or string.match(problem, "for type (TYPE_[%u%d]+)$")
  local described = type_name and TYPE_DESCRIPTIONS[type_name]
  if not described and type_name and SCHEMA.enums[type_name] then
    described = "must be one of " .. SCHEMA.enums[type_name]
  end
  return field, described or problem
end

-- A local reply of the transcoder's, in the shape local_reply_config gives it, rewritten with
-- its field violation; nil to leave a body as it is.
local function rewrite_transcoder_error(text)
  local ok, document = pcall(decode, text, true)
  if not ok or kind_of(document) ~= "object" then
    return nil
  end
  local values = document.values
  if values.code ~= 3 or type(values.message) ~= "string" or kind_of(values.details) ~= "array"
      or #values.details.items > 0 then
    return nil -- not one of ours: the services' 400s carry their violations already
  end
  local field, description = violation_from_transcoder(values.message)
  if not field then
    return nil
  end
  return invalid_argument({ { field = field, description = description } })
end

-- Envoy entry points --------------------------------------------------------------------------

local function respond(handle, status, body)
  -- Marks the reply as final: local_reply_config (envoy.yaml) would otherwise wrap it again.
  handle:streamInfo():dynamicMetadata():set("insighttracker.gateway", "reply", "final")
  handle:respond({ [":status"] = tostring(status), ["content-type"] = "application/json" }, body)
end

function envoy_on_request(handle)
  local headers = handle:headers()
  local route = route_for(headers:get(":method"), headers:get(":path"))
  if route == nil or route.raw_body then
    return
  end
  local declared = tonumber(headers:get("content-length") or "")
  if declared and declared > SCHEMA.max_json_bytes then
    return respond(handle, too_large())
  end
  local body = handle:body()
  local text = body and body:length() > 0 and body:getBytes(0, body:length()) or ""
  local status, reply = check_body(route, text)
  if status then
    respond(handle, status, reply)
  end
end

function envoy_on_response(handle)
  local headers = handle:headers()
  if headers:get(":status") ~= "400" then
    return
  end
  local body = handle:body()
  if not body or body:length() == 0 then
    return
  end
  local rewritten = rewrite_transcoder_error(body:getBytes(0, body:length()))
  if rewritten then
    body:setBytes(rewritten)
    headers:replace("content-length", tostring(#rewritten))
  end
end

-- For the unit tests (lupa): the pure functions, reachable without Envoy.
REQUEST_CHECKS = {
  decode = decode,
  kind_of = kind_of,
  route_for = route_for,
  check_body = check_body,
  rewrite_transcoder_error = rewrite_transcoder_error,
  NULL = NULL,
}
