// rust_std.rs - a Rust std program: arguments, environment, files and
// directories through std::fs, run as
//   lvm run --dir SCRATCH::/work --env GREETING=hi rust_std.wasm /work a b
// It prints what it saw and exits with status 0 when every check held.
use std::env;
use std::fs;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

fn main() {
    let args: Vec<String> = env::args().collect();
    println!("args {:?}", &args[1..]);
    println!("GREETING={}", env::var("GREETING").unwrap_or_default());
    assert!(env::var("HOME").is_err(), "the environment must be empty but for --env");

    let root = Path::new(&args[1]);
    let dir = root.join("rs");
    fs::create_dir_all(dir.join("nested")).unwrap();
    let file = dir.join("hello.txt");
    {
        let mut f = fs::File::create(&file).unwrap();
        f.write_all(b"hello from rust\n").unwrap();
        f.seek(SeekFrom::Start(6)).unwrap();
        f.write_all(b"FROM").unwrap();
    }
    let mut text = String::new();
    fs::File::open(&file).unwrap().read_to_string(&mut text).unwrap();
    assert_eq!(text, "hello FROM rust\n");
    assert_eq!(fs::metadata(&file).unwrap().len(), 16);
    fs::rename(&file, dir.join("nested/moved.txt")).unwrap();
    let mut names: Vec<String> = fs::read_dir(dir.join("nested"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    println!("nested {:?}", names);
    // the sandbox: nothing above the preopen
    assert!(fs::read_to_string(root.join("../etc/passwd")).is_err());
    assert!(fs::read_to_string("/etc/passwd").is_err());
    fs::remove_file(dir.join("nested/moved.txt")).unwrap();
    fs::remove_dir_all(&dir).unwrap();
    println!("rust ok");
}
