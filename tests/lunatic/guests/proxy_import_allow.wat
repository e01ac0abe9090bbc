;; proxy_import_allow.wat - ABI 7.1: exports `yield_`, which calls its own
;; import lunatic.yield_ (the host's: a helper's imports see only the host).
(module
  (import "lunatic" "yield_" (func $yield))
  (func (export "yield_")
    (call $yield)))
