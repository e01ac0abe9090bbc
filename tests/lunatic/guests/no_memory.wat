;; no_memory.wat - a memory of 0 pages: runs under max_memory 0, where
;; `grow` must fail (it traps if memory.grow succeeds).
(module
  (memory 0)
  (func (export "grow")
    (if (i32.ne (memory.grow (i32.const 1)) (i32.const -1))
      (then unreachable))))
