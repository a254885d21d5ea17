-- wrk script: GETs paths read from a file (one per line), in random order.
-- usage: wrk -s Benchmarks/wrk/paths.lua ... URL -- PATHS_FILE
local paths = {}

function init(args)
  for line in io.lines(args[1]) do table.insert(paths, line) end
  math.randomseed(os.time())
end

function request()
  return wrk.format("GET", paths[math.random(#paths)])
end
