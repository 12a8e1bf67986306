-- wrk script of bench/perf/run.sh: reads of incidents, one JSON summary line
-- at the end (bench/perf/summary.lua).
--
-- Usage: wrk ... -s bench/perf/get.lua http://HOST:PORT -- MODE KEY [LO HI]
--   incident KEY LO HI    GET /v1/incidents/{id}, id uniform in LO..HI
--   list KEY              GET /v1/incidents?limit=50&to=DATE: a page of 50,
--                         newest first, from a random date in 2021-06..2025-12
--                         (a client deep in its paging)
-- KEY is an API key that may read every incident (reviewer or admin).

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "summary.lua")

local mode, key, lo, hi

function setup(thread)
    -- a seed per thread: wrk creates the threads one after another
    thread:set("seed", math.random(1, 1000000000))
end

function init(args)
    mode, key = args[1], args[2]
    if mode == "incident" then
        lo, hi = tonumber(args[3]), tonumber(args[4])
    end
    if not key or (mode ~= "list" and mode ~= "incident")
        or (mode == "incident" and not (lo and hi)) then
        error("get.lua: incident KEY LO HI | list KEY")
    end
    math.randomseed(os.time() + (seed or 0))
end

function request()
    local headers = {["Authorization"] = "Bearer " .. key}
    if mode == "incident" then
        return wrk.format("GET", "/v1/incidents/" .. math.random(lo, hi), headers)
    end
    local year = math.random(2021, 2025)
    local month = math.random(year == 2021 and 6 or 1, 12)
    return wrk.format("GET", string.format("/v1/incidents?limit=50&to=%04d-%02d-%02d",
        year, month, math.random(28)), headers)
end
