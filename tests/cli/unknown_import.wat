;; An import nobody provides: lvm must name its module and field.
(module
  (import "env" "no_such_function" (func))
  (func (export "_start")))
