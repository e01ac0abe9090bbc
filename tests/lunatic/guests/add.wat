;; add.wat - ABI 7.1: imports env.add and exports `test`, which traps
;; unless add(2, 3) == 5.  A memory of one page, so that a helper with
;; more (add_import.wat) shows the spawn's max_memory is the target's only.
(module
  (import "env" "add" (func $add (param i32 i32) (result i32)))
  (memory 1)
  (func (export "test")
    (if (i32.ne (call $add (i32.const 2) (i32.const 3)) (i32.const 5))
      (then unreachable))))
