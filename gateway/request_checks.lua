-- Strict JSON checks in front of the gRPC-JSON transcoder (envoy.yaml runs this as a Lua filter).
--
-- The transcoder reads request bodies with protobuf's lenient JSON parser: an object where a
-- google.protobuf.ListValue belongs becomes an empty list (a PUT that silently cleared the tags),
-- a bare string where a list belongs a one-element list, "yes" a bool; single quotes, unquoted
-- keys and trailing commas pass. And its own 400s name the field only inside the message.
--
-- So, on every route with a JSON body, this script reads the body as strict JSON (RFC 8259) and
-- checks each field's JSON type against the request message, and that the fields the protos mark
-- REQUIRED are there (proto3 reads a missing bool as false); a mismatch is answered 400 with
-- google.rpc.BadRequest field violations, in the services' own error shape, before anything
-- reaches a service. On the way back it gives the transcoder's own 400s (a bad query parameter,
-- an unknown enum name, an integer out of range) the field violation they lack.
--
-- gateway/request_checks.py renders one script: SCHEMA (routes, messages, required fields, what
-- each type must be, the JSON size cap) from the protos' descriptor, the transcoder's own; then
-- gateway/json_reader.lua (new_reader, decode, kind_of, json_string, NULL, MAX_DEPTH); then this
-- file. The functions above the Envoy entry points are plain Lua, unit-tested without Envoy
-- (tests/unit/test_request_checks.py).

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

local MAX_VIOLATIONS = 20

-- Walks a body with `reader` against the request message: a field spec (from SCHEMA) has
-- `accepts` (the JSON kinds allowed; null always is: proto3 reads it as "not set", so a required
-- field given null counts as left out), `expect`
-- (what to say otherwise), and `item` (repeated: each element), `map_value` (a map's values) or
-- `message` (an object checked field by field). Unknown keys are skipped: the transcoder drops
-- them (servers tolerate newer clients). Violations go to `violations`, at most MAX_VIOLATIONS.
local function check_fields(reader, message_name, violations)
  local function add(field, description)
    if #violations < MAX_VIOLATIONS then
      violations[#violations + 1] = { field = field, description = description }
    end
  end

  local message

  local function field(spec, path, depth)
    local kind = reader.kind()
    if kind == "null" then
      return reader.scalar()
    elseif not spec.accepts[kind] then
      add(path, spec.expect)
      return reader.skip(depth)
    end
    local item_spec = spec.item
    if item_spec then
      local nested = item_spec.item or item_spec.map_value or item_spec.message
      reader.items(depth, function(index, d)
        local item_kind = reader.kind()
        -- The element's path ("tags[3]") is built only when needed: a long list of well-typed
        -- scalars costs a lookup each.
        if item_kind == "null" then
          add(path .. "[" .. (index - 1) .. "]", "must not be null")
          reader.scalar()
        elseif nested or not item_spec.accepts[item_kind] then
          field(item_spec, path .. "[" .. (index - 1) .. "]", d + 1)
        else
          reader.skip(d + 1)
        end
      end)
    elseif spec.map_value then
      reader.members(depth, function(key, d)
        field(spec.map_value, path .. "[" .. json_string(key) .. "]", d + 1)
      end)
    elseif spec.message then
      message(spec.message, path .. ".", depth)
    else
      reader.skip(depth)
    end
  end

  message = function(name, prefix, depth)
    local fields = SCHEMA.messages[name] or {}
    local seen = {} -- proto name -> the JSON kind it came as
    reader.members(depth, function(key, d)
      local spec = fields[key]
      if not spec then
        return reader.skip(d + 1)
      end
      local path = prefix .. spec.name
      if seen[spec.name] then
        add(path, "is given more than once")
        return reader.skip(d + 1)
      end
      seen[spec.name] = reader.kind()
      field(spec, path, d + 1)
    end)
    -- Fields marked `(google.api.field_behavior) = REQUIRED`, left out or null: proto3 would read
    -- them as their default (a missing `accepted` as a rejection no one gave).
    for _, required in ipairs(SCHEMA.required[name] or {}) do
      if seen[required] == nil or seen[required] == "null" then
        add(prefix .. required, "is required")
      end
    end
  end

  message(message_name, "", 1)
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
    -- No body: the transcoder reads it as an empty message, so it is checked as one (it lacks
    -- any required field).
    if not SCHEMA.required[route.message] then
      return nil
    end
    text = "{}"
  end
  local violations = {}
  local is_object
  local ok, failure = pcall(function()
    local reader = new_reader(text)
    is_object = reader.kind() == "object"
    if is_object then
      check_fields(reader, route.message, violations)
    else
      reader.skip(1)
    end
    reader.finish()
  end)
  if not ok then
    if type(failure) == "table" and failure.json_error then
      return 400, error_json(3, "request body is not valid JSON: " .. failure.json_error)
    end
    error(failure, 0)
  elseif not is_object then
    return 400, error_json(3, "request body must be a JSON object")
  elseif #violations > 0 then
    return 400, invalid_argument(violations)
  end
  return nil
end

-- The transcoder's own 400s -------------------------------------------------------------------

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
  -- SCHEMA.type_descriptions: scalar and well-known types, and the project's enums.
  return field, type_name and SCHEMA.type_descriptions[type_name] or problem
end

-- A local reply of the transcoder's, in the shape local_reply_config gives it, rewritten with
-- its field violation; nil to leave a body as it is.
local function rewrite_transcoder_error(text)
  local ok, document = pcall(decode, text)
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
