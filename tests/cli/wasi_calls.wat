;; The WASI functions lvm implements, each called the way a libc would,
;; with valid arguments.  Run as `lvm run wasi_calls.wasm one two`, it
;; prints "out\nab\n" on stdout and "err\n" on stderr and exits with 0;
;; otherwise it exits with the number of the first check that failed.
(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_close" (func $fd_close (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_seek"
    (func $fd_seek (param i32 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_fdstat_get"
    (func $fd_fdstat_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_prestat_get"
    (func $fd_prestat_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_sizes_get"
    (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_sizes_get"
    (func $environ_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get"
    (func $clock_time_get (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "random_get"
    (func $random_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "\30\00\00\00\04\00\00\00")    ;; { 48, 4 } -> "out\n"
  (data (i32.const 24) "\38\00\00\00\04\00\00\00")    ;; { 56, 4 } -> "err\n"
  (data (i32.const 32) "\40\00\00\00\01\00\00\00"     ;; { 64, 1 } -> "a"
                       "\41\00\00\00\02\00\00\00")    ;; { 65, 2 } -> "b\n"
  (data (i32.const 48) "out\n")
  (data (i32.const 56) "err\n")
  (data (i32.const 64) "ab\n")
  ;; scratch: 100 (u32/u64 results), 128, 256 (fdstat, 24 bytes)

  (func $check (param $got i32) (param $want i32) (param $case i32)
    (if (i32.ne (local.get $got) (local.get $want))
      (then (call $proc_exit (local.get $case)))))

  (func (export "_start")
    ;; the environment is empty by default
    (call $check (call $environ_sizes_get (i32.const 100) (i32.const 104)) (i32.const 0) (i32.const 1))
    (call $check (i32.load (i32.const 100)) (i32.const 0) (i32.const 1))
    (call $check (i32.load (i32.const 104)) (i32.const 0) (i32.const 1))
    ;; argv is FILE, one, two
    (call $check (call $args_sizes_get (i32.const 100) (i32.const 104)) (i32.const 0) (i32.const 2))
    (call $check (i32.load (i32.const 100)) (i32.const 3) (i32.const 2))
    ;; stdout, with nwritten
    (call $check (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 100))
      (i32.const 0) (i32.const 3))
    (call $check (i32.load (i32.const 100)) (i32.const 4) (i32.const 4))
    ;; stderr
    (call $check (call $fd_write (i32.const 2) (i32.const 24) (i32.const 1) (i32.const 100))
      (i32.const 0) (i32.const 5))
    ;; stdin cannot be written
    (call $check (call $fd_write (i32.const 0) (i32.const 16) (i32.const 1) (i32.const 100))
      (i32.const 8) (i32.const 6))
    ;; no preopened directories: fd 3 is EBADF, which ends libc's scan
    (call $check (call $fd_prestat_get (i32.const 3) (i32.const 128)) (i32.const 8) (i32.const 7))
    ;; the standard descriptors do not seek: ESPIPE
    (call $check (call $fd_seek (i32.const 1) (i64.const 0) (i32.const 0) (i32.const 128))
      (i32.const 70) (i32.const 8))
    ;; clock ids above 3 are EINVAL; the monotonic clock is not zero
    (call $check (call $clock_time_get (i32.const 9) (i64.const 0) (i32.const 128))
      (i32.const 28) (i32.const 9))
    (call $check (call $clock_time_get (i32.const 1) (i64.const 1) (i32.const 128))
      (i32.const 0) (i32.const 10))
    (call $check (i64.eqz (i64.load (i32.const 128))) (i32.const 0) (i32.const 10))
    (call $check (call $random_get (i32.const 200) (i32.const 16)) (i32.const 0) (i32.const 11))
    ;; fdstat of stdout: may write (rights bit 6), cannot seek (bit 2)
    (call $check (call $fd_fdstat_get (i32.const 1) (i32.const 256)) (i32.const 0) (i32.const 12))
    (call $check (i32.and (i32.load (i32.const 264)) (i32.const 0x44)) (i32.const 0x40) (i32.const 13))
    ;; two iovecs, one line
    (call $check (call $fd_write (i32.const 1) (i32.const 32) (i32.const 2) (i32.const 100))
      (i32.const 0) (i32.const 14))
    (call $check (i32.load (i32.const 100)) (i32.const 3) (i32.const 14))
    ;; after fd_close, fd 1 is gone for the guest
    (call $check (call $fd_close (i32.const 1)) (i32.const 0) (i32.const 15))
    (call $check (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 100))
      (i32.const 8) (i32.const 16))
    (call $check (call $fd_close (i32.const 1)) (i32.const 8) (i32.const 17))
    (call $proc_exit (i32.const 0))))
