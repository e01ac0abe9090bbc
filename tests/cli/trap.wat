;; A trap two calls deep: lvm must exit with 134 and print the reason and a
;; backtrace naming the functions (the test compiles this with
;; wat2wasm --debug-names, which keeps $inner_boom in the name section).
(module
  (memory (export "memory") 1)
  (func $inner_boom unreachable)
  (func $middle (call $inner_boom))
  (func (export "_start") (call $middle)))
