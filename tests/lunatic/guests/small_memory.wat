;; small_memory.wat - one page, and the limit of growth:
;;   test         returns (its spawn still fails under max_memory 0)
;;   grow_to_32   grows to 32 pages in all; traps if that fails
;;   grow_to_33   tries to grow to 33 pages; traps if that succeeds
(module
  (memory 1)
  (func (export "test"))
  (func (export "grow_to_32")
    (if (i32.eq (memory.grow (i32.const 31)) (i32.const -1))
      (then unreachable)))
  (func (export "grow_to_33")
    (if (i32.ne (memory.grow (i32.const 32)) (i32.const -1))
      (then unreachable))))
