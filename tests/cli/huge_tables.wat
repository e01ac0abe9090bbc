;; Twelve tables, each asked to grow by 2^24 entries (128 MiB of lvm's
;; memory each, 1.5 GiB in all); exits with how many grows failed.  Under
;; `--max-memory 1` every one must fail: table elements count against the
;; limit beside the one page of linear memory.
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (table $t0 0 funcref) (table $t1 0 funcref) (table $t2 0 funcref)
  (table $t3 0 funcref) (table $t4 0 funcref) (table $t5 0 funcref)
  (table $t6 0 funcref) (table $t7 0 funcref) (table $t8 0 funcref)
  (table $t9 0 funcref) (table $t10 0 funcref) (table $t11 0 funcref)
  (global $failed (mut i32) (i32.const 0))
  (func $count (param i32)
    (if (i32.eq (local.get 0) (i32.const -1))
      (then (global.set $failed (i32.add (global.get $failed) (i32.const 1))))))
  (func (export "_start")
    (call $count (table.grow $t0 (ref.null func) (i32.const 16777216)))
    (call $count (table.grow $t1 (ref.null func) (i32.const 16777216)))
    (call $count (table.grow $t2 (ref.null func) (i32.const 16777216)))
    (call $count (table.grow $t3 (ref.null func) (i32.const 16777216)))
    (call $count (table.grow $t4 (ref.null func) (i32.const 16777216)))
    (call $count (table.grow $t5 (ref.null func) (i32.const 16777216)))
    (call $count (table.grow $t6 (ref.null func) (i32.const 16777216)))
    (call $count (table.grow $t7 (ref.null func) (i32.const 16777216)))
    (call $count (table.grow $t8 (ref.null func) (i32.const 16777216)))
    (call $count (table.grow $t9 (ref.null func) (i32.const 16777216)))
    (call $count (table.grow $t10 (ref.null func) (i32.const 16777216)))
    (call $count (table.grow $t11 (ref.null func) (i32.const 16777216)))
    (call $proc_exit (global.get $failed))))
