-- wrk script of bench/perf/soak.sh: bench/post.lua's requests at a fixed
-- rate (wrk2 is not in Debian).
--
-- Usage: CIVCAS_POST_LUA=bench/post.lua \
--        wrk -tT -cC -dD -s bench/perf/pace.lua URL -- KEY RUN RATE T
--   RATE  requests per second over all threads
--   T     wrk's -t (a thread cannot learn how many there are: each one
--         starts before the next is set up)
-- How the rate is held: every thread owns RATE/T of it and hands out start
-- times one interval apart (a monotonic clock through LuaJIT's FFI); wrk
-- calls delay() before each request and the connection waits until its slot.
-- Slots that pass while every connection is busy are not made up later:
-- the rate falls short instead of bursting, and the achieved rate (the JSON
-- line of post.lua) shows it. Latency is wrk's, from the moment a request
-- is written, so waiting for a slot is not counted.

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } civcas_pace_timespec;
int clock_gettime(int clk, civcas_pace_timespec *ts);
]]
local ts = ffi.new("civcas_pace_timespec")
local function now_ms()
    ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
    return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

local post = os.getenv("CIVCAS_POST_LUA")
if not post then
    error("pace.lua: set CIVCAS_POST_LUA to the path of bench/post.lua")
end
dofile(post)

local post_init = init
local interval_ms, next_slot

function init(args)
    local rate, nthreads = tonumber(args[3]), tonumber(args[4])
    if not rate or rate <= 0 or not nthreads or nthreads < 1 then
        error("pace.lua: pass KEY RUN RATE THREADS after --")
    end
    -- post.lua's own arguments: KEY and RUN (its plain record).
    post_init({args[1], args[2]})
    interval_ms = 1000 * nthreads / rate
    next_slot = now_ms()
end

function delay()
    local now = now_ms()
    if next_slot < now - interval_ms then
        next_slot = now -- fallen behind: do not burst to catch up
    end
    local wait = next_slot - now
    next_slot = next_slot + interval_ms
    if wait < 0 then
        return 0
    end
    return math.floor(wait)
end
