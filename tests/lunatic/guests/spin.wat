;; spin.wat - exports `spin`, an endless loop: a child to cancel.
(module
  (func (export "spin")
    (loop $l (br $l))))
