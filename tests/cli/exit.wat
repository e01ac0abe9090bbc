;; proc_exit(7) from _start: lvm must exit with status 7 (ABI decision D1),
;; and nothing after the call may run.
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (call $proc_exit (i32.const 7))
    unreachable))
