-- One load scenario for wrk, as the member portal and staff scripts call the API,
-- each request with a bearer token. Chosen by environment variables:
--   SCENARIO  get_goal | list_goals | document | document_all | document_huge |
--             document_huge_plain | sheet_csv | post_update | patch_goal | static
--   TOKEN     the API token to send
--   DATA      the folder dataset.py wrote (goals.txt, plans.txt, big_plan.txt,
--             huge_plan.txt)
-- At the end it prints one JSON line: requests, duration, p50 and p99 latency (µs),
-- socket errors, and answers of 400 or more (wrk counts those as errors too), with
-- their statuses.
-- patch_goal keeps each goal's ETag from the answer it last got, so it needs one
-- connection per thread (scripts/bench runs it with as many threads as connections).

local scenario = os.getenv("SCENARIO")
local token = os.getenv("TOKEN")
local data = os.getenv("DATA")

local function lines(name)
  local list = {}
  for line in io.lines(data .. "/" .. name) do
    list[#list + 1] = line
  end
  return list
end

local threads = {}
function setup(thread)
  threads[#threads + 1] = thread
  thread:set("number", #threads)
end

local goals, plans, big_plan, huge_plan, own, etags, current
local sent = 0
-- Answers of 400 or more, by status, so that an error can be told apart.
failures = {}

function init(args)
  goals = lines("goals.txt")
  plans = lines("plans.txt")
  big_plan = lines("big_plan.txt")[1]
  huge_plan = lines("huge_plan.txt")[1]
  math.randomseed(number * 7919)
  -- The whole documents are read as a member's browser does: without a token.
  local anonymous = scenario == "document_all" or scenario == "document_huge"
    or scenario == "document_huge_plain"
  if not anonymous then
    wrk.headers["Authorization"] = "Bearer " .. token
  end
  -- document_huge_plain is a client that cannot inflate: the service inflates the
  -- gzip it keeps while it sends it.
  if scenario ~= "document_huge_plain" then
    wrk.headers["Accept-Encoding"] = "gzip"
  end
  -- patch_goal: four goals of this thread's own, so no two threads race on one.
  own, etags = {}, {}
  for i = 1, 4 do
    own[i] = goals[((number - 1) * 4 + i - 1) % #goals + 1]
  end
end

local function pick(list)
  return list[math.random(#list)]
end

-- wrk.format sends the headers it is given instead of wrk.headers, not as well.
local function with_defaults(headers)
  for name, value in pairs(wrk.headers) do
    headers[name] = value
  end
  return headers
end

function request()
  sent = sent + 1
  if scenario == "get_goal" then
    return wrk.format("GET", "/api/v1/goals/" .. pick(goals))
  elseif scenario == "list_goals" then
    return wrk.format("GET", "/api/v1/plans/" .. pick(plans) .. "/goals?status=on_track&limit=50")
  elseif scenario == "document" then
    -- As the portal draws the plan: each goal with its latest update.
    return wrk.format("GET", "/api/v1/plans/" .. big_plan .. "/document?updates=latest")
  elseif scenario == "document_all" then
    -- The whole document, every update of every goal: the largest public answer.
    return wrk.format("GET", "/api/v1/plans/" .. big_plan .. "/document")
  elseif scenario == "document_huge" or scenario == "document_huge_plain" then
    -- The same, of the largest plan the import allows (5,000 goals, 50,000 updates).
    return wrk.format("GET", "/api/v1/plans/" .. huge_plan .. "/document")
  elseif scenario == "sheet_csv" then
    return wrk.format("GET", "/api/v1/plans/" .. pick(plans) .. "/tracking-sheet?format=csv")
  elseif scenario == "post_update" then
    local headers = with_defaults({
      ["Content-Type"] = "application/json",
      ["Idempotency-Key"] = "bench-" .. number .. "-" .. sent .. "-" .. math.random(1e9),
    })
    local body = string.format(
      '{"status": "on_track", "progress_percent": %d, "note": "Reported during the benchmark", "author": "Staff"}',
      math.random(0, 100))
    return wrk.format("POST", "/api/v1/goals/" .. pick(goals) .. "/status-updates", headers, body)
  elseif scenario == "patch_goal" then
    current = own[math.random(#own)]
    local etag = etags[current]
    if etag == nil then
      -- The first time, read the goal for its ETag, as an editor would.
      return wrk.format("GET", "/api/v1/goals/" .. current)
    end
    local headers = with_defaults({ ["Content-Type"] = "application/json", ["If-Match"] = etag })
    local body = string.format('{"owner": "Committee %d"}', math.random(1, 12))
    return wrk.format("PATCH", "/api/v1/goals/" .. current, headers, body)
  elseif scenario == "static" then
    return wrk.format("GET", "/healthz")
  end
  error("unknown SCENARIO " .. tostring(scenario))
end

function response(status, headers, body)
  if status >= 400 then
    failures[status] = (failures[status] or 0) + 1
  end
  if scenario == "patch_goal" then
    etags[current] = headers["etag"] or headers["ETag"]
  end
end

function done(summary, latency, requests)
  local counts, by_status = {}, {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("failures") or {}) do
      counts[status] = (counts[status] or 0) + count
    end
  end
  for status, count in pairs(counts) do
    by_status[#by_status + 1] = string.format('"%d": %d', status, count)
  end
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "socket_errors": %d, "http_errors": %d, "failures": {%s}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status, table.concat(by_status, ", ")))
end
