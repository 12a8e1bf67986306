-- wrk script of bench/writes.sh: POST /v1/incidents with realistic bodies.
--
-- Usage: wrk -t2 -c16 -d20s -s bench/post.lua http://HOST:PORT -- KEY [RUN]
--   KEY  an API key that may create incidents (monitor, reviewer or admin)
--   RUN  a label making the Idempotency-Keys of this run unique (default:
--        the time)
-- Every request is a new incident (a unique Idempotency-Key): a date in
-- 2021-2025, a province and for 70% its first district, party, tactic and
-- weapon from the UNAMA-style taxonomy, 3 casualty groups of distinct
-- outcome x sex x age group, 3 sources of distinct types, a narrative.
-- At the end one JSON line: requests, rps, latency percentiles (ms), and
-- the responses that were not 2xx or failed on the socket.

-- The summary line at the end: bench/perf/summary.lua's done().
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "perf/summary.lua")

local parties = {"taliban", "isil_kp", "undetermined_age", "ansf_army", "ansf_police",
    "ansf_nds", "ansf_alp", "ansf_air_force", "pro_government_armed_groups",
    "international_forces", "undetermined_pgf", "multiple_pgf", "crossfire_age_pgf",
    "erw_unattributed", "cross_border", "unknown", "unknown", "unknown"}
local tactics = {"ground_engagement", "ied_non_suicide", "ied_suicide", "targeted_killing",
    "aerial_operation", "erw", "search_operation", "escalation_of_force", "abduction",
    "summary_execution", "cross_border_shelling", "other"}
local weapons = {"heavy_explosive", "planted_explosive_uxo", "small_arms", "incendiary",
    "less_lethal", "conflict_accident", "other", "unknown"}
local source_types = {"victim", "witness", "medical", "local_authority",
    "party_to_conflict", "community_leader", "media", "un_ngo", "other"}
local outcomes = {"killed", "injured"}
local sexes = {"male", "female", "unknown"}
local ages = {"adult", "child", "unknown"}
local month_days = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}

local threads = {}
local key, run
local counter = 0

function setup(thread)
    table.insert(threads, thread)
    thread:set("tid", #threads)
end

function init(args)
    key = args[1]
    run = args[2] or tostring(os.time())
    if not key then
        error("post.lua: pass the API key after --")
    end
    math.randomseed(os.time() + 7919 * tid)
end

local function pick(list)
    return list[math.random(#list)]
end

-- n distinct entries of list, in random order.
local function distinct(list, n)
    local copy = {}
    for i, v in ipairs(list) do copy[i] = v end
    for i = 1, n do
        local j = math.random(i, #copy)
        copy[i], copy[j] = copy[j], copy[i]
    end
    return {unpack(copy, 1, n)}
end

local combos = {}
for _, o in ipairs(outcomes) do
    for _, s in ipairs(sexes) do
        for _, a in ipairs(ages) do
            combos[#combos + 1] = string.format(
                '"outcome": "%s", "sex": "%s", "age_group": "%s"', o, s, a)
        end
    end
end

local function body()
    local year = math.random(2021, 2025)
    local month = math.random(12)
    local days = month_days[month]
    if month == 2 and year % 4 == 0 then days = 29 end
    local province = string.format("AF%02d", math.random(34))
    local admin2 = "null"
    if math.random() < 0.7 then admin2 = '"' .. province .. '01"' end
    local groups = {}
    for i, c in ipairs(distinct(combos, 3)) do
        local count = 1
        if math.random() < 0.3 then count = math.random(2, 12) end
        groups[i] = string.format('{%s, "count": %d}', c, count)
    end
    local sources = {}
    for i, t in ipairs(distinct(source_types, 3)) do
        sources[i] = string.format('{"type": "%s", "reference": "interview %d-%d"}',
            t, tid, counter)
    end
    return string.format(
        '{"occurred_on": "%04d-%02d-%02d", "date_precision": "day", "time_of_day": "%02d:%02d",' ..
        ' "location": {"admin1": "%s", "admin2": %s, "place": "village %d",' ..
        ' "precision": "%s"},' ..
        ' "tactic": "%s", "weapon": "%s", "perpetrator": "%s",' ..
        ' "casualties": [%s], "sources": [%s],' ..
        ' "narrative": "Benchmark incident %d of thread %d: shelling hit a market at noon.",' ..
        ' "external_ref": "BENCH-%s-%d-%d"}',
        year, month, math.random(days), math.random(0, 23), math.random(0, 59),
        province, admin2, math.random(1000), admin2 == "null" and "admin1" or "admin2",
        pick(tactics), pick(weapons), pick(parties),
        table.concat(groups, ", "), table.concat(sources, ", "),
        counter, tid, run, tid, counter)
end

function request()
    counter = counter + 1
    return wrk.format("POST", "/v1/incidents", {
        ["Content-Type"] = "application/json",
        ["Authorization"] = "Bearer " .. key,
        ["Idempotency-Key"] = string.format("bench-%s-%d-%d", run, tid, counter),
    }, body())
end
