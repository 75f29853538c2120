-- wrk script: replay pre-signed requests (one line each: path \t headers \t method \t body), every one once.
-- SIG-02 refuses a nonce seen twice, so each thread stops when its lines are used up. wrk still divides by the
-- whole -d duration, so the caller prepares more requests than the run can send (bench_mock.py: twice the aims).
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end

function init(args)
  requests, position = {}, 0
  local threads, n = tonumber(args[2]), 0
  for line in io.lines(args[1]) do
    if n % threads == id then
      local path, header_text, method, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
      local headers = {}
      for name, value in header_text:gmatch("([^|:]+): ([^|]*)") do headers[name] = value end
      if body == "" then body = nil end
      requests[#requests + 1] = wrk.format(method, path, headers, body)
    end
    n = n + 1
  end
end

function request()
  position = position + 1
  if position > #requests then position = #requests end  -- the thread stops once every request was answered
  return requests[position]
end

function response(status, headers, body)
  if position >= #requests then wrk.thread:stop() end
end

function done(summary, latency, requests)
  io.write(string.format("p95_ms: %.1f\n", latency:percentile(95) / 1000))
  io.write(string.format("answered: %d in_us: %d\n", summary.requests, summary.duration))
end
