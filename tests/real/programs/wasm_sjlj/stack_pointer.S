# stack_pointer.S - read and write the C shadow stack's pointer, the
# __stack_pointer global that clang gives every wasm32 program; C cannot
# name a wasm global (see sjlj.c for why setjmp needs it).

	.globaltype __stack_pointer, i32

	.globl lvm_sjlj_get_sp
	.type lvm_sjlj_get_sp,@function
lvm_sjlj_get_sp:
	.functype lvm_sjlj_get_sp () -> (i32)
	global.get __stack_pointer
	end_function

	.globl lvm_sjlj_set_sp
	.type lvm_sjlj_set_sp,@function
lvm_sjlj_set_sp:
	.functype lvm_sjlj_set_sp (i32) -> ()
	local.get 0
	global.set __stack_pointer
	end_function
