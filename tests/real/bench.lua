-- bench.lua - the Lua workload of bench-real: table churn, string
-- building and patterns, closures, method calls and a few coroutines.
local function tables(n)
  local t, s = {}, 0
  for i = 1, n do t[i] = i * 3 % 1000 end
  for r = 1, 20 do for i = 1, n do s = s + t[i] end end
  local h = {}
  for i = 1, n do h["k" .. (i % 5000)] = (h["k" .. (i % 5000)] or 0) + i end
  table.sort(t)
  return s, t[1], t[n]
end
local function strings(n)
  local parts = {}
  for i = 1, n do parts[#parts + 1] = string.format("%d:%.3f", i, i / 7) end
  local joined = table.concat(parts, ",")
  local count = 0
  for a, b in joined:gmatch("(%d+):(%d+%.%d+)") do count = count + #a + #b end
  return #joined, count, (joined:gsub("%d", "x")):sub(1, 20)
end
local function closures(n)
  local function make(k) return function(x) return x * k + 1 end end
  local fs = {}
  for i = 1, 100 do fs[i] = make(i) end
  local acc = 0
  for i = 1, n do acc = (acc + fs[i % 100 + 1](i)) % 1000003 end
  return acc
end
local Point = {}
Point.__index = Point
function Point.new(x, y) return setmetatable({x = x, y = y}, Point) end
function Point:add(o) return Point.new(self.x + o.x, self.y + o.y) end
function Point:norm2() return self.x * self.x + self.y * self.y end
local function objects(n)
  local p = Point.new(0, 0)
  for i = 1, n do p = p:add(Point.new(i % 7 - 3, i % 5 - 2)) end
  return p:norm2()
end
local function coroutines(n)
  local total = 0
  for r = 1, n do
    local co = coroutine.wrap(function() for i = 1, 50 do coroutine.yield(i) end end)
    for _ = 1, 50 do total = total + co() end
  end
  return total
end
local function fib(n) if n < 2 then return n end return fib(n - 1) + fib(n - 2) end
print("tables", tables(60000))
print("strings", strings(25000))
print("closures", closures(400000))
print("objects", objects(150000))
print("coroutines", coroutines(40))
print("fib", fib(23))
