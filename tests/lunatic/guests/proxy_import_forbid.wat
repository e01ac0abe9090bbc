;; proxy_import_forbid.wat - ABI 7.1: exports `yield_`, which traps.
(module
  (func (export "yield_")
    unreachable))
