;; start_yield.wat - a start function that calls lunatic.yield_.  It runs
;; while the spawner instantiates the module, so the host must not take it
;; for the spawner's own call (which would leave the spawner's yield half
;; done): it is a call from no process, which yield_ lets return.
(module
  (import "lunatic" "yield_" (func $yield))
  (func $start (call $yield))
  (start $start)
  (func (export "test")))
