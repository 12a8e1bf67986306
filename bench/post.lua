-- wrk script of bench/writes.sh: POST /v1/incidents with realistic bodies.
--
-- Usage: wrk -t2 -c16 -d20s -s bench/post.lua http://HOST:PORT -- KEY [RUN [RECORD]]
--   KEY     an API key that may create incidents (monitor, reviewer or admin)
--   RUN     a label making the Idempotency-Keys of this run unique (default:
--           the time)
--   RECORD  plain (default) or widened: whether the incidents carry the
--           fields the record gained (bench/perf's pgbench mirror of a POST
--           knows only plain documents; bench/writes.sh sends widened ones)
-- Every request is a new incident (a unique Idempotency-Key): a date in
-- 2021-2025, a province and for 70% its first district, party, tactic and
-- weapon from the UNAMA-style taxonomy, 3 casualty groups of distinct
-- outcome x sex x age group, 3 sources of distinct types, a narrative.
-- widened adds about the mix of bench/generate.sql: an attribution
-- (unknown 37%, determined 34%, alleged 12%, claimed 11%, acknowledged
-- 6%); impacts on 15% (one, a quarter of them a second), and a fifth of
-- those (3% of all) with no casualty group; a low/high range on 20% of
-- groups of one person (a high estimate only) and 40% of larger ones (a
-- quarter of all groups); a role on half the groups of an incident with
-- impacts (the role its first impact implies) and 6% of the others; 1-3
-- abducted groups on every incident of the tactic abduction (1 in 12 here).
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
local key, run, widened
local counter = 0

function setup(thread)
    table.insert(threads, thread)
    thread:set("tid", #threads)
end

function init(args)
    key = args[1]
    run = args[2] or tostring(os.time())
    local record = args[3] or "plain"
    if record ~= "plain" and record ~= "widened" then
        error("post.lua: RECORD must be plain or widened, not " .. record)
    end
    widened = record == "widened"
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

-- pick_weighted(codes, weights): a code, with probability weight / sum.
local function pick_weighted(codes, weights)
    local total = 0
    for _, w in ipairs(weights) do total = total + w end
    local r = math.random() * total
    for i, w in ipairs(weights) do
        r = r - w
        if r < 0 then return codes[i] end
    end
    return codes[#codes]
end

local attributions = {"unknown", "determined", "alleged", "claimed", "acknowledged"}
local attribution_w = {37, 34, 12, 11, 6}
local impacts = {"education", "health_care", "place_of_worship", "humanitarian", "media",
    "election", "cultural_property", "civilian_government", "detention"}
local impact_w = {30, 24, 10, 10, 6, 7, 3, 7, 3}
local any_roles = {"tribal_elder", "government_employee", "religious_figure",
    "human_rights_defender", "teacher", "health_worker", "journalist",
    "humanitarian_worker", "election_worker"}
local any_role_w = {24, 24, 14, 8, 8, 7, 6, 5, 4}
local impact_roles = {health_care = "health_worker", humanitarian = "humanitarian_worker",
    media = "journalist", election = "election_worker", place_of_worship = "religious_figure",
    civilian_government = "government_employee"}
local abducted_combos = {}
for _, s in ipairs(sexes) do
    for _, a in ipairs(ages) do
        abducted_combos[#abducted_combos + 1] = string.format(
            '"sex": "%s", "age_group": "%s"', s, a)
    end
end

-- The role of a group of age group `age`: the one the incident's first
-- impact implies (children: only with education), or any.
local function role_of(impact, age)
    if impact == "education" then
        if age == "child" then
            return math.random() < 0.6 and "child_in_school" or "student"
        end
        return math.random() < 0.6 and "teacher" or "student"
    end
    if age == "child" then
        if impact then return nil end
        return math.random() < 0.7 and "child_in_school" or "student"
    end
    return impact_roles[impact] or pick_weighted(any_roles, any_role_w)
end

-- The widened fields of one incident: its casualty groups (JSON) and the
-- text that follows them in the document.
local function widened_fields(tactic)
    local list = {}
    local first
    if math.random() < 0.15 then
        first = pick_weighted(impacts, impact_w)
        list[1] = first
        if math.random() < 0.25 then
            local second = pick_weighted(impacts, impact_w)
            if second ~= first then list[2] = second end
        end
    end
    local groups = {}
    if not (first and math.random() < 0.2) then
        for i, c in ipairs(distinct(combos, 3)) do
            local count = 1
            if math.random() < 0.3 then count = math.random(2, 12) end
            local extra = ""
            local p_range = count == 1 and 0.2 or 0.4
            if math.random() < p_range then
                local kind = math.random()
                if count > 1 and kind < 0.7 then
                    extra = extra .. string.format(', "count_min": %d',
                        math.max(1, count - 1 - math.floor(math.random() * count * 0.4)))
                end
                if count == 1 or kind >= 0.1 then
                    extra = extra .. string.format(', "count_max": %d',
                        count + 1 + math.floor(math.random() * (count * 0.6 + 2)))
                end
            end
            local age = c:match('"age_group": "(%a+)"')
            local role
            if first then
                if math.random() < 0.5 then role = role_of(first, age) end
            elseif math.random() < 0.06 then
                role = role_of(nil, age)
            end
            if role then extra = extra .. string.format(', "role": "%s"', role) end
            groups[i] = string.format('{%s, "count": %d%s}', c, count, extra)
        end
    end
    local abducted = {}
    if tactic == "abduction" then
        for i, c in ipairs(distinct(abducted_combos, math.random(3))) do
            abducted[i] = string.format('{%s, "count": %d}', c, math.random(1, 4))
        end
    end
    local quoted = {}
    for i, m in ipairs(list) do quoted[i] = '"' .. m .. '"' end
    return table.concat(groups, ", "), string.format(
        ', "attribution": "%s", "impacts": [%s], "abducted": [%s]',
        pick_weighted(attributions, attribution_w), table.concat(quoted, ", "),
        table.concat(abducted, ", "))
end

local function body()
    local year = math.random(2021, 2025)
    local month = math.random(12)
    local days = month_days[month]
    if month == 2 and year % 4 == 0 then days = 29 end
    local province = string.format("AF%02d", math.random(34))
    local admin2 = "null"
    if math.random() < 0.7 then admin2 = '"' .. province .. '01"' end
    local tactic = pick(tactics)
    local casualties, more = "", ""
    if widened then
        casualties, more = widened_fields(tactic)
    else
        local groups = {}
        for i, c in ipairs(distinct(combos, 3)) do
            local count = 1
            if math.random() < 0.3 then count = math.random(2, 12) end
            groups[i] = string.format('{%s, "count": %d}', c, count)
        end
        casualties = table.concat(groups, ", ")
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
        ' "casualties": [%s]%s, "sources": [%s],' ..
        ' "narrative": "Benchmark incident %d of thread %d: shelling hit a market at noon.",' ..
        ' "external_ref": "BENCH-%s-%d-%d"}',
        year, month, math.random(days), math.random(0, 23), math.random(0, 59),
        province, admin2, math.random(1000), admin2 == "null" and "admin1" or "admin2",
        tactic, pick(weapons), pick(parties),
        casualties, more, table.concat(sources, ", "),
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
