;; A name in the WASI module that preview 1 does not have: the error must
;; say so instead of looking like a missing feature.
(module
  (import "wasi_snapshot_preview1" "fd_bogus"
    (func (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start")))
