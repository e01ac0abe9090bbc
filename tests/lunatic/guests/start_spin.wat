;; start_spin.wat - a start function that never returns.  It runs first
;; thing in its own process, preemptible like any loop, so it holds only
;; that child: the spawner goes on, and can cancel it.
(module
  (func $start (loop $l (br $l)))
  (start $start)
  (func (export "test")))
