;; A library, not a WASI command: there is no _start to run.
(module
  (memory (export "memory") 1)
  (func (export "main")))
