-- web_bench.lua: wrk script for bench/web_bench.sh.
--
--   wrk -t2 -c32 -d60s --latency -s bench/web_bench.lua http://127.0.0.1:PORT \
--       -- QUERIES.tsv [HTML_EVERY]
--
-- Reads QUERIES.tsv (qid<TAB>query, e.g. the AOL benchmark queries), URL-encodes
-- every query and cycles through them:
--   GET /search?q=<query>&k=10&format=json
-- with every HTML_EVERY-th request (default 4) asking for format=html instead.
-- Each wrk thread starts at a different offset in the list. A response hook
-- counts statuses other than 200 (and empty bodies); done() prints them, with
-- wrk's own totals, as "key value" lines the shell script parses.

local queries = {}
local pos = 0
local html_every = 4
local sent = 0

-- per-thread counters, read by done() through thread:get()
ok = 0
bad = 0
empty = 0
bad_codes = ""

local function urlencode(s)
    return (s:gsub("[^%w%-%._~]", function(c)
        return string.format("%%%02X", string.byte(c))
    end))
end

local threads = {}
local next_id = 0

function setup(thread)
    thread:set("id", next_id)
    next_id = next_id + 1
    table.insert(threads, thread)
end

function init(args)
    local path = args[1]
    if not path then
        error("web_bench.lua: pass the query file after --")
    end
    if args[2] then html_every = tonumber(args[2]) end
    local f = io.open(path, "r")
    if not f then error("web_bench.lua: cannot open " .. path) end
    for line in f:lines() do
        local q = line:match("^[^\t]*\t(.*)$")
        if q then
            q = q:gsub("\r$", "")
            if q ~= "" then table.insert(queries, urlencode(q)) end
        end
    end
    f:close()
    if #queries == 0 then error("web_bench.lua: no queries in " .. path) end
    -- spread the threads over the list (id is set by setup())
    pos = ((id or 0) * 7919) % #queries
end

function request()
    pos = pos % #queries + 1
    sent = sent + 1
    local fmt = "json"
    if html_every > 0 and sent % html_every == 0 then fmt = "html" end
    return wrk.format("GET", "/search?q=" .. queries[pos] .. "&k=10&format=" .. fmt)
end

function response(status, headers, body)
    if status == 200 then
        ok = ok + 1
        if body == nil or #body == 0 then empty = empty + 1 end
    else
        bad = bad + 1
        if #bad_codes < 200 then bad_codes = bad_codes .. " " .. status end
    end
end

function done(summary, latency, requests)
    local nok, nbad, nempty, codes = 0, 0, 0, ""
    for _, t in ipairs(threads) do
        nok = nok + t:get("ok")
        nbad = nbad + t:get("bad")
        nempty = nempty + t:get("empty")
        codes = codes .. t:get("bad_codes")
    end
    local e = summary.errors
    io.write("--- web_bench\n")
    io.write(string.format("requests %d\n", summary.requests))
    io.write(string.format("duration_us %d\n", summary.duration))
    io.write(string.format("rps %.1f\n", summary.requests / (summary.duration / 1e6)))
    io.write(string.format("status_200 %d\n", nok))
    io.write(string.format("status_other %d\n", nbad))
    io.write(string.format("empty_200 %d\n", nempty))
    io.write(string.format("other_codes %s\n", codes ~= "" and codes or "-"))
    io.write(string.format("err_connect %d\nerr_read %d\nerr_write %d\nerr_status %d\nerr_timeout %d\n",
        e.connect, e.read, e.write, e.status, e.timeout))
    for _, p in ipairs({ 50, 90, 99, 99.9 }) do
        io.write(string.format("lat_p%s_ms %.2f\n", tostring(p), latency:percentile(p) / 1000))
    end
    io.write(string.format("lat_mean_ms %.2f\nlat_max_ms %.2f\n", latency.mean / 1000, latency.max / 1000))
end
