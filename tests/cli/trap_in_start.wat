;; A trap in the module's start function, i.e. during instantiation,
;; before _start is even looked up: still exit status 134.
(module
  (func $divide_by_zero
    (drop (i32.div_u (i32.const 1) (i32.const 0))))
  (start $divide_by_zero)
  (func (export "_start")))
