-- test.lua - the Lua workload of test_real: tables, strings, closures,
-- coroutines, metatables, errors caught by pcall, string.format of floats,
-- integer and float arithmetic, sorting and string patterns.

-- tables: array part, hash part, length, removal, nested
local t = {}
for i = 1, 1000 do t[i] = i * i end
for i = 1, 1000, 3 do t["k" .. i] = i end
local sum, keys = 0, 0
for k, v in pairs(t) do sum = sum + v; keys = keys + 1 end
print("table", #t, keys, sum)
table.remove(t, 1); table.insert(t, 1, -1)
print("first", t[1], t[2], t[#t], select("#", table.unpack(t, 1, 10)))

-- strings: building, patterns, gsub, byte/char, rep, reverse
local words = {}
for w in ("the quick brown fox jumps over the lazy dog"):gmatch("%a+") do words[#words + 1] = w end
print("words", #words, table.concat(words, "-"))
print("gsub", ("hello world from lua"):gsub("o", "0"))
print("find", ("key=value; other=thing"):find("(%w+)=(%w+)", 10))
print("upper", ("MiXeD"):upper(), ("MiXeD"):lower(), ("abc"):rep(3, ","), ("stressed"):reverse())
print("byte", ("ABC"):byte(1, -1), string.char(72, 105))
local parts = {}
for k, v in string.gmatch("a=1, b=22, c=333", "(%w+)=(%w+)") do parts[#parts + 1] = k .. ":" .. v end
print("pairs", table.concat(parts, " "))

-- closures: counters sharing upvalues, a closure per loop iteration
local function counter()
  local n = 0
  return function(d) n = n + (d or 1); return n end, function() return n end
end
local inc, get = counter()
inc(); inc(5); inc()
local fs = {}
for i = 1, 5 do fs[i] = function() return i * 10 end end
print("closures", get(), fs[1](), fs[5]())
local function memo(f)
  local cache = {}
  return function(n) local v = cache[n]; if not v then v = f(n); cache[n] = v end; return v end
end
local fib
fib = memo(function(n) if n < 2 then return n end return fib(n - 1) + fib(n - 2) end)
print("fib", fib(80))

-- coroutines: generators, passing values both ways, status, wrap
local function gen(n)
  return coroutine.create(function()
    for i = 1, n do coroutine.yield(i, i * i) end
    return "done"
  end)
end
local co = gen(4)
local out = {}
while true do
  local ok, a, b = coroutine.resume(co)
  out[#out + 1] = tostring(a) .. "/" .. tostring(b)
  if coroutine.status(co) == "dead" then break end
end
print("coroutine", table.concat(out, " "), coroutine.resume(co))
local acc = coroutine.wrap(function(x)
  local total = 0
  while true do total = total + x; x = coroutine.yield(total) end
end)
print("wrap", acc(1), acc(2), acc(3), acc(4.5))
local nested = coroutine.wrap(function()
  local inner = coroutine.wrap(function() coroutine.yield("in1"); coroutine.yield("in2") end)
  coroutine.yield(inner()); coroutine.yield(inner()); coroutine.yield("out")
end)
print("nested", nested(), nested(), nested())
print("yield in pcall", coroutine.wrap(function() return pcall(function() coroutine.yield("y") end) end)())

-- metatables: arithmetic, index, tostring, comparison
local V = {}
V.__index = V
V.__add = function(a, b) return setmetatable({x = a.x + b.x, y = a.y + b.y}, V) end
V.__eq = function(a, b) return a.x == b.x and a.y == b.y end
V.__tostring = function(v) return string.format("(%g, %g)", v.x, v.y) end
V.__lt = function(a, b) return a.x < b.x end
function V.new(x, y) return setmetatable({x = x, y = y}, V) end
function V:len() return math.sqrt(self.x ^ 2 + self.y ^ 2) end
local a, b = V.new(1, 2), V.new(3.5, -4)
print("meta", tostring(a + b), (a + b):len(), a == V.new(1, 2), a < b)
local default = setmetatable({}, {__index = function(_, k) return k .. "?" end})
print("index", default.foo, rawget(default, "foo"))

-- errors: pcall, error objects, error with levels, xpcall with a handler
print("pcall", pcall(function() error("plain") end))
local ok, e = pcall(function() error({code = 42}) end)
print("pcall", ok, type(e), e.code)
print("pcall", select(2, pcall(function() local x; return x.field end)))
print("pcall", pcall(error))
print("xpcall", xpcall(function() error("deep", 0) end, function(m) return "handled: " .. m end))
print("arith", pcall(function() return 1 + {} end))
print("tonumber", tonumber("0x1F"), tonumber("1e3"), tonumber("12", 3), tonumber("z", 36), tonumber("nope"))

-- numbers: integers, floats, division, string.format of floats
print("int", 7 // 2, -7 // 2, 7 % -3, -7 % 3, 2 ^ 10, 1 << 62, math.maxinteger, math.mininteger)
print("float", 7 / 2, -7 // 2.0, 7.5 % 2, 1 / 3, 0.1 + 0.2, 1e300 * 1e10, -(0 / 0) ~= -(0 / 0))
print("format", string.format("%.3f %5.1f %e %.10g %g %g %g", math.pi, -2.25, 12345.6789, 1 / 3, 1e20, 1e-5, 100))
print("format", string.format("%d %5d %-5d| %x %X %o %q %s", 42, -7, 3, 255, 255, 8, "a\nb", 1.5))
print("format", string.format("%a %.0f %.20f", 1.0, 2.5, 0.1))
print("math", math.floor(-3.5), math.ceil(-3.5), math.abs(-4), math.max(3, 9, 1), math.fmod(7, 3), math.type(1), math.type(1.0))
print("tostring", 1e15, 1e16, 2^53, 123456789012, -0.0, 3.0, 10 // 3.0)

-- sorting with a comparator, and a stable check of the result
local people = {}
for i = 1, 200 do people[i] = {name = "p" .. (i * 7 % 200), age = i * 13 % 90} end
table.sort(people, function(p, q) if p.age ~= q.age then return p.age < q.age end return p.name < q.name end)
print("sort", people[1].name, people[1].age, people[200].name, people[200].age)
local nums = {}
for i = 1, 500 do nums[i] = (i * 7919) % 1009 end
table.sort(nums)
local ok = true
for i = 2, #nums do ok = ok and nums[i - 1] <= nums[i] end
print("sorted", ok, nums[1], nums[250], nums[500])

-- utf8 and goto
print("utf8", utf8.char(72, 228, 8364, 128512), utf8.len("häll€"), #utf8.char(128512))
local i = 0
::again::
i = i + 1
if i < 3 then goto again end
print("goto", i)
print("string.pack", string.unpack("<i4", string.pack("<i4", -2)), #string.pack("z", "abc"))
