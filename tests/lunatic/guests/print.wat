;; print.wat - imports env.print (print_import.wat's) and writes its own
;; line with WASI fd_write from its own memory, at the same addresses as
;; the helper's: each host call must see the memory of its caller.
(module
  (import "env" "print" (func $print))
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory 1)
  (data (i32.const 16) "target's own line\n")
  (func (export "test")
    (call $print)
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 18))
    (if (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))
      (then unreachable))))
