// rs_tests.rs - a test binary as `#[lunatic::test]` makes them (ABI 0.14 13.2):
// exports named #lunatic_test_[#ignore_][#panic_MSG#]PATH, for lvm's test
// mode; a panic prints the line the runner looks for.
#[export_name = "#lunatic_test_mycrate::passes"]
pub extern "C" fn passes() { println!("hello from passes"); }
#[export_name = "#lunatic_test_mycrate::fails"]
pub extern "C" fn fails() { println!("some output"); panic!("boom {}", 1); }
#[export_name = "#lunatic_test_#panic_#mycrate::should_panic_any"]
pub extern "C" fn spa() { panic!("whatever"); }
#[export_name = "#lunatic_test_#panic_bad \\#1#mycrate::should_panic_msg"]
pub extern "C" fn spm() { panic!("this is bad #1 indeed"); }
#[export_name = "#lunatic_test_#panic_expected#mycrate::should_panic_wrong"]
pub extern "C" fn spw() { panic!("other"); }
#[export_name = "#lunatic_test_#panic_x#mycrate::did_not_panic"]
pub extern "C" fn dnp() { }
#[export_name = "#lunatic_test_#ignore_mycrate::ignored"]
pub extern "C" fn ign() { }
#[export_name = "#lunatic_test_mycrate::traps"]
pub extern "C" fn traps() { std::process::abort(); }
fn main() {}
#[link(wasm_import_module = "lunatic::process")]
extern "C" {
    fn process_id() -> u64;
}
#[export_name = "#lunatic_test_mycrate::fresh_environment"]
pub extern "C" fn fresh() { assert_eq!(unsafe { process_id() }, 1); }
#[export_name = "#lunatic_test_mycrate::args"]
pub extern "C" fn args() { println!("args {:?}", std::env::args().collect::<Vec<_>>()); }
