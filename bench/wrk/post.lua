-- post.lua: wrk script posting signed, distinct order events.
--
--   wrk -t T -s bench/wrk/post.lua URL -- TEMPLATE SIGS T [OUTFILE [DELAY_MS]]
--
-- SIGS is gen_signed's output (one line per request: id, entity, increment,
-- customer, email, timestamp, signature). Thread t of T takes lines t, t+T, ...
-- so no two connections ever send the same webhook-id; the body is rebuilt
-- from TEMPLATE exactly as gen_signed signed it. If a thread runs out of lines
-- it starts again from its first one and counts the wrap: those requests are
-- duplicates to the receiver, and run.sh refuses a run that wrapped.
--
-- DELAY_MS > 0 paces each connection: it waits a random 0.5 to 1.5 times
-- DELAY_MS between its requests (fractions by random rounding), so C
-- connections offer about C * 1000 / DELAY_MS requests per second (wrk has no
-- rate option; the latency is still that of a closed loop, see RESULTS.md).
--
-- done() appends one JSON line with the figures run.sh needs to OUTFILE (or
-- prints it prefixed "BENCHJSON " when there is none).

local threads = {}
local counter = 0

function setup(thread)
   thread:set("tid", counter)
   table.insert(threads, thread)
   counter = counter + 1
end

local function read_all(path)
   local f = assert(io.open(path, "rb"))
   local s = f:read("*a")
   f:close()
   return s
end

-- Template split into literal pieces and placeholder names, once.
local pieces = {}
local lines = {}
local nlines = 0
local idx = 0
wraps = 0
st2xx = 0
stother = 0
statuses = {}

function init(args)
   local tpl = read_all(args[1]):gsub("[\r\n]+$", "")
   local pos = 1
   while true do
      local a, b, name = tpl:find("{{(%u+)}}", pos)
      if not a then
         table.insert(pieces, { lit = tpl:sub(pos) })
         break
      end
      table.insert(pieces, { lit = tpl:sub(pos, a - 1) })
      table.insert(pieces, { var = name })
      pos = b + 1
   end
   -- wrk calls setup() and init() thread by thread, so init() cannot count
   -- the threads itself: run.sh passes the -t value.
   local nthreads = tonumber(args[3]) or 1
   local i = 0
   for line in io.lines(args[2]) do
      if i % nthreads == tid then
         nlines = nlines + 1
         lines[nlines] = line
      end
      i = i + 1
   end
   assert(nlines > 0, "no signed requests for this thread")
   outfile = args[4]
   pace_ms = tonumber(args[5]) or 0
   math.randomseed(os.time() + tid * 7919)
end

function delay()
   if pace_ms <= 0 then return 0 end
   local d = pace_ms * (0.5 + math.random())
   return math.floor(d + math.random())
end

local vals = {}
local parts = {}

function request()
   idx = idx + 1
   if idx > nlines then
      idx = 1
      wraps = wraps + 1
   end
   local id, entity, increment, customer, email, ts, sig =
      lines[idx]:match("^([^\t]+)\t([^\t]+)\t([^\t]+)\t([^\t]+)\t([^\t]+)\t([^\t]+)\t([^\t]+)$")
   vals.ID, vals.ENTITY, vals.INCREMENT, vals.CUSTOMER, vals.EMAIL = id, entity, increment, customer, email
   for k, p in ipairs(pieces) do
      parts[k] = p.lit or vals[p.var]
   end
   local body = table.concat(parts)
   return wrk.format("POST", nil, {
      ["Content-Type"] = "application/json",
      ["webhook-id"] = id,
      ["webhook-timestamp"] = ts,
      ["webhook-signature"] = sig,
   }, body)
end

function response(status, headers, body)
   if status >= 200 and status < 300 then
      st2xx = st2xx + 1
   else
      stother = stother + 1
      local k = tostring(status)
      statuses[k] = (statuses[k] or 0) + 1
   end
end

function done(summary, latency, requests)
   local w, ok, other = 0, 0, 0
   local codes = {}
   for _, t in ipairs(threads) do
      w = w + (t:get("wraps") or 0)
      ok = ok + (t:get("st2xx") or 0)
      other = other + (t:get("stother") or 0)
      local s = t:get("statuses")
      if s then
         for k, v in pairs(s) do codes[k] = (codes[k] or 0) + v end
      end
   end
   local cs = {}
   for k, v in pairs(codes) do table.insert(cs, string.format('"%s":%d', k, v)) end
   local e = summary.errors
   local line = string.format(
      '{"requests":%d,"duration_us":%d,"rps":%.1f,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,' ..
      '"ok":%d,"non2xx":%d,"codes":{%s},"wraps":%d,"err_connect":%d,"err_read":%d,"err_write":%d,' ..
      '"err_timeout":%d}',
      summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
      ok, other, table.concat(cs, ","), w, e.connect, e.read, e.write, e.timeout)
   local out = threads[1] and threads[1]:get("outfile")
   if out then
      local f = assert(io.open(out, "a"))
      f:write(line, "\n")
      f:close()
   else
      io.write("BENCHJSON ", line, "\n")
   end
end
