;; start_spawn.wat - a start function that spawns: it traps with
;; "Cannot spawn process during module initialization" (ABI 0.14 7.1).
(module
  (import "lunatic::process" "spawn"
    (func $spawn (param i64 i64 i64 i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "_start")
  (func $init
    (drop (call $spawn (i64.const 0) (i64.const -1) (i64.const -1)
                       (i32.const 16) (i32.const 6) (i32.const 0) (i32.const 0) (i32.const 64))))
  (start $init)
  (func (export "_start")))
