;; A table of 100,000 entries (800,000 bytes) from the start: more than
;; `--max-memory 1` allows beside its one page of memory.
(module
  (memory (export "memory") 1)
  (table 100000 funcref)
  (func (export "_start")))
