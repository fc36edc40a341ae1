-- wrk script of the soak: every response must be a 200 whose body is exactly the bytes of
-- the file named by the first script argument. done() prints the tally of all threads.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  local f = assert(io.open(args[1], "rb"))
  expected = f:read("*a")
  f:close()
  ok, bad = 0, 0
end

function response(status, headers, body)
  if status == 200 and body == expected then
    ok = ok + 1
  else
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local o, b = 0, 0
  for _, t in ipairs(threads) do
    o = o + t:get("ok")
    b = b + t:get("bad")
  end
  io.write(string.format("soak: ok=%d bad=%d\n", o, b))
end
