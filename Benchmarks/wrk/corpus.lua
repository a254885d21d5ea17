-- wrk script: POSTs the webhook corpus round-robin, each payload to /v1/events/<its source>.
-- usage: wrk -s Benchmarks/wrk/corpus.lua ... URL -- CORPUS_DIR
local requests = {}
local counter = 0

function init(args)
  local dir = args[1] or "../shared/corpus"
  local index = assert(io.open(dir .. "/index.tsv", "r"))
  local first = true
  for line in index:lines() do
    if first then first = false else
      local path, source = line:match("^([^\t]+)\t([^\t]+)\t")
      local file = assert(io.open(dir .. "/" .. path, "rb"))
      local body = file:read("*a")
      file:close()
      table.insert(requests, wrk.format("POST", "/v1/events/" .. source,
        { ["Content-Type"] = "application/json" }, body))
    end
  end
  index:close()
  -- Threads start at different places so they do not send the same payload at once.
  counter = math.random(#requests)
end

function request()
  counter = counter % #requests + 1
  return requests[counter]
end

local statuses = {}
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end
