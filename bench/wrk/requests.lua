-- One wrk scenario of bench/load.py: GETs rotating through the paths listed in the file
-- $WRK_PATHS, or, with $WRK_BODY, POSTs to $WRK_PATH of that JSON template, where %ID%
-- becomes the next id of the file $WRK_IDS, %N% a number unique to the request and %R%
-- one that comes back every 500 requests.
-- $WRK_AUTH and $WRK_COOKIE are sent as the Authorization and Cookie headers.
-- done() prints one JSON line: requests, seconds, errors, latency percentiles (ms) and
-- the first failed answer, if any.

local function lines(variable)
  local list, name = {}, os.getenv(variable)
  if name then
    for line in io.lines(name) do
      if line ~= "" then list[#list + 1] = line end
    end
  end
  return list
end

local paths, ids = lines("WRK_PATHS"), lines("WRK_IDS")
local body, post_path = os.getenv("WRK_BODY"), os.getenv("WRK_PATH")
local threads, counter, position = {}, 0, 0
failed = nil  -- global: done() reads it from each thread

function setup(thread)
  thread:set("number", #threads + 1)
  threads[#threads + 1] = thread
end

function init(args)
  position = ((number or 1) * 7919) % math.max(#paths, #ids, 1)
  if os.getenv("WRK_AUTH") then wrk.headers["Authorization"] = os.getenv("WRK_AUTH") end
  if os.getenv("WRK_COOKIE") then wrk.headers["Cookie"] = os.getenv("WRK_COOKIE") end
  if body then wrk.headers["Content-Type"] = "application/json" end
end

function request()
  position = position + 1
  if body then
    counter = counter + 1
    local text = body:gsub("%%N%%", tostring((number or 1) * 100000000 + counter))
    text = text:gsub("%%R%%", tostring((number or 1) * 100000 + counter % 500))
    if #ids > 0 then text = text:gsub("%%ID%%", ids[position % #ids + 1]) end
    return wrk.format("POST", post_path, nil, text)
  end
  return wrk.format("GET", paths[position % #paths + 1])
end

function response(status, headers, answer)
  if status >= 400 and failed == nil then
    -- Kept JSON-safe: control characters, quotes and backslashes become spaces.
    failed = (tostring(status) .. " " .. string.sub(answer or "", 1, 300)):gsub('[%c"\\]', " ")
  end
end

function done(summary, latency, requests)
  local first = ""
  for _, thread in ipairs(threads) do
    local text = thread:get("failed")
    if text and first == "" then first = text end
  end
  local errors = summary.errors
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "errors": %d, "p50": %.2f, "p95": %.2f, "p99": %.2f, "max": %.2f, "failed": "%s"}\n',
    summary.requests, summary.duration / 1e6,
    errors.connect + errors.read + errors.write + errors.status + errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, first))
end
