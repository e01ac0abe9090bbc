;; memory.wat - a module that needs 40 pages: its spawn fails under a
;; smaller max_memory.
(module
  (memory 40)
  (func (export "test")))
