// big_rust.rs - the start-up benchmark's guest (`bench: startup_big_rust`):
// a Rust hello world, built with full debug info.
//
// Built by Debian's rustc for wasm32-wasi with `-g -C opt-level=1` (see
// mk/interp.mk), this tiny program becomes a ~5.8 MB module: about 60 KB of
// code and 5.7 MB of DWARF custom sections from the standard library.  That
// is the shape of a typical debug-built Rust program, and what `lvm run`
// must start quickly: custom sections should cost (almost) nothing.
use std::env;

fn main() {
    let args: Vec<String> = env::args().collect();
    println!("hello from a big Rust program ({} argument(s))", args.len());
}
