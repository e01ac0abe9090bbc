-- bad.lua - the Lua failing path of test_real: output, then a runtime
-- error nobody catches (the interpreter prints it with a traceback on
-- stderr and exits 1).
local function divide(t, k)
  return t[k].value / 2
end
print("before", divide({a = {value = 3}}, "a"))
print("after", divide({}, "missing"))
