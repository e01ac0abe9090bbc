;; Asks memory.grow for 20 more pages (21 in all; its own maximum is 40)
;; and, when that fails, does what its argument count says: none, trap;
;; one, cope and return (exit 0); two, proc_exit(3).  When the grow works
;; it then asks for 100 more, past its own maximum, and traps: a failure
;; that no --max-memory caused.
(module
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1 40)
  (func (export "_start")
    (local $argc i32)
    (drop (call $args_sizes_get (i32.const 0) (i32.const 4)))
    (local.set $argc (i32.load (i32.const 0)))
    (if (i32.eq (memory.grow (i32.const 20)) (i32.const -1))
      (then
        (if (i32.eq (local.get $argc) (i32.const 2)) (then (return)))
        (if (i32.eq (local.get $argc) (i32.const 3)) (then (call $proc_exit (i32.const 3))))
        (unreachable)))
    (if (i32.eq (memory.grow (i32.const 100)) (i32.const -1))
      (then (unreachable)))))
