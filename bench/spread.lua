-- wrk script: GET /api/v1/cases/{id} over many case ids (not one hot row), with a bearer token.
-- Environment: BENCH_IDS (file of case ids, one a line), BENCH_TOKEN, BENCH_LIST_EVERY (optional:
-- every Nth request is GET /api/v1/cases?limit=50 instead, for a mixed load).
local ids = {}
local n = 0
local list_every = tonumber(os.getenv("BENCH_LIST_EVERY") or "0")
local headers = {}

function init(args)
  for line in io.lines(os.getenv("BENCH_IDS")) do
    if #line > 0 then
      n = n + 1
      ids[n] = line
    end
  end
  headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
  -- A different sequence per thread.
  math.randomseed(n + (tonumber(tostring({}):match("0x(%x+)"), 16) or 0) % 100000)
end

local count = 0
function request()
  count = count + 1
  if list_every > 0 and count % list_every == 0 then
    return wrk.format("GET", "/api/v1/cases?limit=50", headers)
  end
  return wrk.format("GET", "/api/v1/cases/" .. ids[math.random(n)], headers)
end
