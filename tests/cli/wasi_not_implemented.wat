;; A real WASI function that lvm does not implement yet: the error must say
;; so instead of looking like a typo.
(module
  (import "wasi_snapshot_preview1" "fd_read"
    (func (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start")))
