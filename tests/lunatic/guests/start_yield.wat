;; start_yield.wat - a start function that calls lunatic.yield_.  It runs
;; first thing in the child, on the child's thread, so the yield is the
;; child's own.
(module
  (import "lunatic" "yield_" (func $yield))
  (func $start (call $yield))
  (start $start)
  (func (export "test")))
