;; proxy.wat - ABI 7.1: imports lunatic.yield_ and exports `test`, which
;; calls it.
(module
  (import "lunatic" "yield_" (func $yield))
  (func (export "test")
    (call $yield)))
