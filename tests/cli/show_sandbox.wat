;; Prints what the options of `lvm run` gave the program, one item a line:
;; `env NAME=VALUE` for each environment variable, in order, then for each
;; descriptor from 3 up to the first that is not open, `dir FD NAME` for a
;; preopened directory or `socket FD` for a listening socket (--tcplisten).
;; Exits 0, or with the number of the call that failed.
(module
  (import "wasi_snapshot_preview1" "environ_sizes_get" (func $environ_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_get" (func $environ_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_prestat_get" (func $fd_prestat_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_prestat_dir_name" (func $fd_prestat_dir_name (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_fdstat_get" (func $fd_fdstat_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  ;; 0: iovec, 8: bytes written, 16: counts, 32: prestat / fdstat,
  ;; 64: the digit of a descriptor, 128: words, 1024: environment
  ;; pointers, 8192: environment strings, 32768: a directory's name.
  (memory (export "memory") 1)
  (data (i32.const 128) "env ")
  (data (i32.const 132) "\n")
  (data (i32.const 136) "dir ")
  (data (i32.const 140) "socket ")
  (data (i32.const 148) " ")

  (func $write (param $ptr i32) (param $len i32)
    (i32.store (i32.const 0) (local.get $ptr))
    (i32.store (i32.const 4) (local.get $len))
    (if (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))
      (then (call $proc_exit (i32.const 1)))))

  (func $strlen (param $p i32) (result i32) (local $n i32)
    (block $end
      (loop $next
        (br_if $end (i32.eqz (i32.load8_u (i32.add (local.get $p) (local.get $n)))))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br $next)))
    (local.get $n))

  ;; "FD" as one digit: the tests open fewer than ten descriptors.
  (func $write_fd (param $fd i32)
    (i32.store8 (i32.const 64) (i32.add (i32.const 48) (local.get $fd)))
    (call $write (i32.const 64) (i32.const 1)))

  (func (export "_start") (local $i i32) (local $p i32) (local $fd i32) (local $len i32)
    (if (call $environ_sizes_get (i32.const 16) (i32.const 20))
      (then (call $proc_exit (i32.const 2))))
    (if (call $environ_get (i32.const 1024) (i32.const 8192))
      (then (call $proc_exit (i32.const 3))))
    (block $env_done
      (loop $env
        (br_if $env_done (i32.ge_u (local.get $i) (i32.load (i32.const 16))))
        (local.set $p (i32.load (i32.add (i32.const 1024) (i32.shl (local.get $i) (i32.const 2)))))
        (call $write (i32.const 128) (i32.const 4))
        (call $write (local.get $p) (call $strlen (local.get $p)))
        (call $write (i32.const 132) (i32.const 1))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $env)))
    (local.set $fd (i32.const 3))
    (block $fds_done
      (loop $fds
        (if (i32.eqz (call $fd_prestat_get (local.get $fd) (i32.const 32)))
          (then
            (local.set $len (i32.load (i32.const 36)))
            (if (call $fd_prestat_dir_name (local.get $fd) (i32.const 32768) (local.get $len))
              (then (call $proc_exit (i32.const 4))))
            (call $write (i32.const 136) (i32.const 4))
            (call $write_fd (local.get $fd))
            (call $write (i32.const 148) (i32.const 1))
            (call $write (i32.const 32768) (local.get $len))
            (call $write (i32.const 132) (i32.const 1)))
          (else
            (br_if $fds_done (call $fd_fdstat_get (local.get $fd) (i32.const 32)))
            ;; filetype 6: socket_stream
            (if (i32.ne (i32.load8_u (i32.const 32)) (i32.const 6))
              (then (call $proc_exit (i32.const 5))))
            (call $write (i32.const 140) (i32.const 7))
            (call $write_fd (local.get $fd))
            (call $write (i32.const 132) (i32.const 1))))
        (local.set $fd (i32.add (local.get $fd) (i32.const 1)))
        (br $fds)))))
