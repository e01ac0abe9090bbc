;; Every WASI function given a guest range that does not fit in memory must
;; return EFAULT (21) and write nothing; lvm must not crash.  _start checks
;; each case in turn and exits with the case number of the first one that
;; does not return 21, or with 0 when all do.  Memory is one page, so the
;; last valid byte is 0xffff.
(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_fdstat_get"
    (func $fd_fdstat_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_sizes_get"
    (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get"
    (func $args_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_sizes_get"
    (func $environ_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get"
    (func $clock_time_get (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "random_get"
    (func $random_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  ;; iovec at 16: { buf = 0xfff0, len = 0x100 }, crosses the end of memory
  (data (i32.const 16) "\f0\ff\00\00\00\01\00\00")
  ;; iovec at 32: { buf = 48, len = 4 }, a valid line "bad\n"
  (data (i32.const 32) "\30\00\00\00\04\00\00\00")
  (data (i32.const 48) "bad\n")

  (func $expect_efault (param $errno i32) (param $case i32)
    (if (i32.ne (local.get $errno) (i32.const 21))
      (then (call $proc_exit (local.get $case)))))

  (func (export "_start")
    ;; fd_write: the iovec array itself lies past the end
    (call $expect_efault
      (call $fd_write (i32.const 1) (i32.const 0xfffffff8) (i32.const 1) (i32.const 0))
      (i32.const 1))
    ;; fd_write: 8 * count wraps around 32 bits (0x20000001 * 8 = 2^32 + 8)
    (call $expect_efault
      (call $fd_write (i32.const 1) (i32.const 32) (i32.const 0x20000001) (i32.const 0))
      (i32.const 2))
    ;; fd_write: a buffer crossing the end of memory
    (call $expect_efault
      (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 0))
      (i32.const 3))
    ;; fd_write: valid buffer, but the nwritten pointer is out of bounds;
    ;; nothing may reach stdout
    (call $expect_efault
      (call $fd_write (i32.const 1) (i32.const 32) (i32.const 1) (i32.const 0x10000))
      (i32.const 4))
    ;; fd_write: nwritten straddles the end (4 bytes at 0xfffe)
    (call $expect_efault
      (call $fd_write (i32.const 1) (i32.const 32) (i32.const 1) (i32.const 0xfffe))
      (i32.const 5))
    ;; fd_fdstat_get: 24 bytes from 0xfff0 do not fit
    (call $expect_efault
      (call $fd_fdstat_get (i32.const 1) (i32.const 0xfff0))
      (i32.const 6))
    ;; args_sizes_get: second out-pointer past the end
    (call $expect_efault
      (call $args_sizes_get (i32.const 0) (i32.const 0xffff))
      (i32.const 7))
    ;; args_get: the pointer array (4 bytes per argument) crosses the end
    (call $expect_efault
      (call $args_get (i32.const 0xfffe) (i32.const 0))
      (i32.const 8))
    ;; args_get: the string buffer lies past the end
    (call $expect_efault
      (call $args_get (i32.const 0) (i32.const 0xffffffff))
      (i32.const 9))
    ;; environ_sizes_get: first out-pointer at 4 GiB - 1
    (call $expect_efault
      (call $environ_sizes_get (i32.const 0xffffffff) (i32.const 0))
      (i32.const 10))
    ;; clock_time_get: 8 bytes at 0xfffc
    (call $expect_efault
      (call $clock_time_get (i32.const 1) (i64.const 0) (i32.const 0xfffc))
      (i32.const 11))
    ;; random_get: 0x200 bytes from 0xff00
    (call $expect_efault
      (call $random_get (i32.const 0xff00) (i32.const 0x200))
      (i32.const 12))
    (call $proc_exit (i32.const 0))))
