;; add_import.wat - ABI 7.1: the import module for add.wat; exports `add`.
;; 17 pages of memory, like the cdylib of the lunatic tests, and a memory
;; export, which the target must not take (D9).
(module
  (memory (export "memory") 17)
  (func (export "add") (param i32 i32) (result i32)
    (i32.add (local.get 0) (local.get 1))))
