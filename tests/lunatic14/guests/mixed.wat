;; mixed.wat - imports from both `lunatic` (0.3) and `lunatic::process`
;; (0.14): lvm refuses to load it (ABI 0.14 D-A).
(module
  (import "lunatic" "yield_" (func))
  (import "lunatic::process" "process_id" (func (result i64)))
  (memory (export "memory") 1)
  (func (export "_start")))
