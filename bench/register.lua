-- wrk script: each request registers a different synthetic person with a
-- valid cédula. Threads take disjoint ranges of document numbers; set the
-- first number with the environment variable TURNERO_DOC_BASE (default
-- 1000000) so that runs against the same data do not collide.
local threads = {}
local counter = 0
local base = tonumber(os.getenv("TURNERO_DOC_BASE") or "1000000")
local span = 400000

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

local weights = {2, 9, 8, 7, 6, 3, 4}
local function cedula(n)
  local s = string.format("%07d", n)
  local sum = 0
  for i = 1, 7 do sum = sum + tonumber(s:sub(i, i)) * weights[i] end
  return s .. tostring((10 - sum % 10) % 10)
end

local names = {"María José", "Juan Pablo", "Lucía", "Martín", "Sofía", "Diego"}
local families = {"Pérez Núñez", "González", "Rodríguez Silva", "O'Neill", "Méndez-Ruiz"}
local deps = {"Montevideo", "Canelones", "Maldonado", "Salto", "Paysandú", "Rivera"}

function init(args)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  counter = counter + 1
  local n = base + tid * span + counter
  local k = n % 6 + 1
  local body = '{"document_type":"CI","document_number":"' .. cedula(n) ..
    '","given_names":"' .. names[k] .. '","family_names":"' .. families[n % 5 + 1] ..
    '","birth_date":"19' .. string.format("%02d", 30 + n % 70) .. '-0' .. (n % 9 + 1) .. '-1' .. (n % 9) ..
    '","phone":"09' .. (n % 9 + 1) .. ' ' .. string.format("%03d %03d", n % 1000, (n * 7) % 1000) ..
    '","email":"","department":"' .. deps[n % 6 + 1] .. '","locality":"","groups":[],"channel":"web","consent":true}'
  return wrk.format(nil, "/v1/registrations", nil, body)
end

done = function(summary, latency, requests)
  local codes = ""
end
