;; Grows its memory one page at a time until memory.grow fails, then exits
;; with the number of pages it reached: with `--max-memory P` that is P.
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (block $full
      (loop $more
        (br_if $full (i32.eq (memory.grow (i32.const 1)) (i32.const -1)))
        (br_if $more (i32.lt_u (memory.size) (i32.const 200)))))
    (call $proc_exit (memory.size))))
