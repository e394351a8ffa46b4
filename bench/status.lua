-- wrk script: status lookups by tracking code. Reads the codes, one per line,
-- from the file named by TURNERO_CODES (write it with
-- `turnero loadtest ... --codes-out FILE`), and cycles through them.
local codes = {}
local i = 0

function init(args)
  local path = os.getenv("TURNERO_CODES") or "codes.txt"
  for line in io.lines(path) do
    if #line > 0 then table.insert(codes, line) end
  end
  if #codes == 0 then error("no tracking codes in " .. path) end
  i = math.random(#codes)
end

function request()
  i = i % #codes + 1
  return wrk.format("GET", "/v1/registrations/" .. codes[i])
end
