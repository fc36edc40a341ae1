-- wrk script: HTTP/1.1 pipelining as in TechEmpower's plaintext test. Every
-- write carries `depth` requests (the first script argument, 16 if none):
-- wrk counts the requests in the string request() returns and waits for that
-- many responses before it writes the next batch.
--
--   wrk -t1 -c50 -d2s -s bench/pipeline.lua http://127.0.0.1:PORT/ -- 16

local batch

init = function(args)
  local depth = tonumber(args[1]) or 16
  local r = {}
  for i = 1, depth do
    r[i] = wrk.format()
  end
  batch = table.concat(r)
end

-- A function, not the static wrk.request: wrk then takes the batch as given.
request = function()
  return batch
end
