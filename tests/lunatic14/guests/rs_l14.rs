// rs_l14.rs - a Rust std program that drives the lunatic 0.14 imports the
// way the `lunatic` crate 0.14.1 does (src/host/api.rs, src/host/mod.rs,
// src/mailbox.rs): a spawn is of the program's own module, entry
// `_lunatic_spawn_by_index_0.14.1` with two i32 params (a wrapper and a
// function, as table indexes); the closure's capture travels as the first
// untagged message; requests use send_receive_skip_search; panics are
// caught with trap::catch through `_lunatic_catch_trap`; errors are read
// with string_size / to_string / drop.  Built with Debian's rustc for
// wasm32-wasi, std only.

mod host {
    #[link(wasm_import_module = "lunatic::process")]
    extern "C" {
        pub fn spawn(link: i64, config: i64, module: i64, f: *const u8, f_len: usize,
                     params: *const u8, params_len: usize, id: *mut u64) -> u32;
        pub fn process_id() -> u64;
        pub fn die_when_link_dies(trap: u32);
        pub fn create_config() -> i64;
        pub fn config_set_max_memory(config: u64, bytes: u64);
        pub fn drop_config(config: u64);
    }
    #[link(wasm_import_module = "lunatic::message")]
    extern "C" {
        pub fn create_data(tag: i64, capacity: u64);
        pub fn write_data(p: *const u8, len: usize) -> usize;
        pub fn read_data(p: *mut u8, len: usize) -> usize;
        pub fn get_tag() -> i64;
        pub fn send(pid: u64) -> u32;
        pub fn send_receive_skip_search(pid: u64, tag: i64, timeout: u64) -> u32;
        pub fn receive(tags: *const i64, n: usize, timeout: u64) -> u32;
    }
    #[link(wasm_import_module = "lunatic::error")]
    extern "C" {
        pub fn string_size(id: u64) -> u32;
        pub fn to_string(id: u64, p: *mut u8);
        pub fn drop(id: u64);
    }
    #[link(wasm_import_module = "lunatic::trap")]
    extern "C" {
        pub fn catch(f: usize, arg: usize) -> i32;
    }
    #[link(wasm_import_module = "lunatic::distributed")]
    extern "C" {
        pub fn node_id() -> u64;
    }
}

// Tags as Tag::new() makes them: from 129 up, per process.
static mut NEXT_TAG: i64 = 128;
fn new_tag() -> i64 {
    unsafe { NEXT_TAG += 1; NEXT_TAG }
}

fn error_text(id: u64) -> String {
    unsafe {
        let n = host::string_size(id) as usize;
        let mut v = vec![0u8; n];
        host::to_string(id, v.as_mut_ptr());
        host::drop(id);
        String::from_utf8(v).unwrap()
    }
}

fn send_bytes(pid: u64, tag: i64, b: &[u8]) {
    unsafe {
        host::create_data(tag, 0);
        host::write_data(b.as_ptr(), b.len());
        host::send(pid);
    }
}

// Read the scratch message in chunks, as the crate's serializers do.
fn read_all() -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 3];
    loop {
        let n = unsafe { host::read_data(buf.as_mut_ptr(), buf.len()) };
        if n == 0 { break; }
        out.extend_from_slice(&buf[..n]);
    }
    out
}

fn receive(tags: &[i64], timeout: u64) -> u32 {
    unsafe { host::receive(tags.as_ptr(), tags.len(), timeout) }
}

// The export every process starts in: call table[wrapper](user_fn).
#[export_name = "_lunatic_spawn_by_index_0.14.1"]
pub extern "C" fn spawn_by_index(wrapper: usize, user_fn: usize) {
    let wrapper: fn(usize) = unsafe { std::mem::transmute(wrapper) };
    wrapper(user_fn)
}

// type_helper_wrapper: receive the capture, then call the function with it.
fn entry_wrapper(user_fn: usize) {
    receive(&[], u64::MAX);
    let capture = read_all();
    let f: fn(Vec<u8>) = unsafe { std::mem::transmute(user_fn) };
    f(capture)
}

fn spawn_with(link: i64, config: i64, f: fn(Vec<u8>), capture: &[u8]) -> Result<u64, String> {
    let mut params = [0u8; 34];
    params[0] = 0x7F;
    params[1..5].copy_from_slice(&(entry_wrapper as fn(usize) as usize as u32).to_le_bytes());
    params[17] = 0x7F;
    params[18..22].copy_from_slice(&(f as usize as u32).to_le_bytes());
    let name = "_lunatic_spawn_by_index_0.14.1";
    let mut id = 0u64;
    let r = unsafe {
        host::spawn(link, config, -1, name.as_ptr(), name.len(), params.as_ptr(), params.len(), &mut id)
    };
    if r != 0 {
        return Err(error_text(id));
    }
    send_bytes(id, 0, capture);             // the capture, first in its mailbox
    Ok(id)
}

fn server(capture: Vec<u8>) {
    println!("server got capture {:?}", String::from_utf8_lossy(&capture));
    loop {
        receive(&[], u64::MAX);
        let tag = unsafe { host::get_tag() };
        let req = read_all();
        let from = u64::from_le_bytes(req[..8].try_into().unwrap());
        let mut reply = b"re: ".to_vec();
        reply.extend_from_slice(&req[8..]);
        send_bytes(from, tag, &reply);
    }
}

fn request(pid: u64, text: &str) -> String {
    let tag = new_tag();
    let mut req = unsafe { host::process_id() }.to_le_bytes().to_vec();
    req.extend_from_slice(text.as_bytes());
    unsafe {
        host::create_data(tag, 0);
        host::write_data(req.as_ptr(), req.len());
        assert_eq!(host::send_receive_skip_search(pid, tag, 5000), 0);
    }
    String::from_utf8(read_all()).unwrap()
}

fn panicker(capture: Vec<u8>) {
    panic!("child panics: {}", String::from_utf8_lossy(&capture));
}

fn hog(_: Vec<u8>) {
    let v: Vec<u8> = vec![1; 4 << 20];
    println!("hog got {}", v.len());
}

// catch_panic: the re-entry function runs the boxed closure; a trap
// returns 0 from catch.
#[export_name = "_lunatic_catch_trap"]
pub extern "C" fn catch_trap(f: usize, arg: usize) -> usize {
    let f: fn(usize) -> usize = unsafe { std::mem::transmute(f) };
    f(arg)
}

fn may_panic(arg: usize) -> usize {
    if arg == 1 { panic!("caught panic"); }
    Box::into_raw(Box::new(arg * 10)) as usize
}

fn main() {
    println!("node {} pid {}", unsafe { host::node_id() }, unsafe { host::process_id() });
    let srv = spawn_with(0, -1, server, b"hello").unwrap();
    println!("{}", request(srv, "one"));
    println!("{}", request(srv, "two"));

    // A linked child that panics: with die_when_link_dies(0), a LinkDied
    // message with the link's tag.
    unsafe { host::die_when_link_dies(0) };
    let tag = new_tag();
    spawn_with(tag, -1, panicker, b"oops").unwrap();
    let r = receive(&[tag], u64::MAX);
    println!("link died: {} tag matches {}", r, unsafe { host::get_tag() } == tag);

    // A config with too little memory for the child's allocation.
    let cfg = unsafe { host::create_config() };
    unsafe { host::config_set_max_memory(cfg as u64, 2 << 20) };
    let tag = new_tag();
    spawn_with(tag, cfg, hog, b"").unwrap();
    let r = receive(&[tag], u64::MAX);
    println!("hog died: {}", r);
    unsafe { host::config_set_max_memory(cfg as u64, 1000) };
    println!("spawn below the initial memory: {}", spawn_with(0, cfg, hog, b"").unwrap_err());
    unsafe { host::drop_config(cfg as u64) };

    let ok = unsafe { host::catch(may_panic as fn(usize) -> usize as usize, 4) };
    println!("catch ok: {}", unsafe { *Box::from_raw(ok as *mut usize) });
    let caught = unsafe { host::catch(may_panic as fn(usize) -> usize as usize, 1) };
    println!("catch panic: {}", caught);
    println!("done");
}
