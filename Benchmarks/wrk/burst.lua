-- wrk script: POSTs small events to /v1/events/burst until each thread has sent its share
-- of TOTAL, then stops. usage: wrk -s Benchmarks/wrk/burst.lua ... URL -- TOTAL THREADS
local share, sent, answered = 0, 0, 0
local body = '{"type":"burst.test","id":%d,"customer":{"email":"ana@example.com","tier":"gold"},"amount":1250}'

function init(args)
  share = math.ceil(tonumber(args[1] or "100000") / tonumber(args[2] or "2"))
end

function request()
  sent = sent + 1
  return wrk.format("POST", "/v1/events/burst", { ["Content-Type"] = "application/json" }, string.format(body, sent))
end

function response(status, headers, body)
  answered = answered + 1
  if answered >= share then wrk.thread:stop() end
end
