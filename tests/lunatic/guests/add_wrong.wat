;; add_wrong.wat - an `add` that is wrong (it returns 0): which of two
;; imports under one namespace wins shows in add.wat's `test`.
(module
  (func (export "add") (param i32 i32) (result i32)
    (i32.const 0)))
