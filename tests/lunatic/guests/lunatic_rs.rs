// lunatic_rs.rs - the essentials of the `lunatic` Rust crate 0.3.10
// (processes and channels) written with std only, for the Rust guests of
// tests/lunatic.  A guest includes it as a module:
//
//     #[path = "lunatic_rs.rs"]
//     mod lunatic;
//
// It drives the host API exactly as the crate does (ABI note, sections 4
// and 5), so the guests see what a real 0.3.10 program sees:
//
//   * Process::spawn_with(context, function) encodes
//     Context { function_ptr, context } - the function's table index as
//     8 bytes, then the context - and passes it to spawn_with_context
//     together with the table index of a generic trampoline.  In the child
//     the trampoline takes that message from receiver 0, decodes it and
//     calls the function.
//   * Dropping a Process cancels the child; join() and detach() consume
//     the handle instead.  Dropping the last clone of a Sender or Receiver
//     closes this process's reference to that channel end.
//   * A Sender or Receiver inside a message or a spawn context is written
//     as the u32 index that sender_serialize / receiver_serialize return;
//     the receiving side turns the index into an id of its own with
//     *_deserialize while the message is still the process's last one.
//
// The crate encodes with serde and bincode; here a small Message trait
// does it by hand, for a few types, producing the same bytes as the
// crate's bincode::serialize (bincode 1.x: fixed-size little-endian
// integers, u64 lengths, a one-byte tag for Option, tuples and structs as
// their fields in order).
#![allow(dead_code)]

use std::marker::PhantomData;
use std::mem;
use std::rc::Rc;

// {====== the host functions (wasm import module "lunatic")

// The types are those of the crate's declarations: on wasm32 u32, usize
// and pointers are i32, u64 is i64.  Results are 0 (ok) or 1 (error).
mod ffi {
    #[link(wasm_import_module = "lunatic")]
    extern "C" {
        pub fn yield_();
        pub fn sleep_ms(millis: u64);

        pub fn spawn_with_context(function: unsafe extern "C" fn(), buf: *const u8, len: usize) -> u32;
        pub fn join(process: u32) -> u32;
        pub fn detach_process(process: u32);
        pub fn cancel_process(process: u32);

        pub fn channel(bound: u32, receiver: *mut u32) -> u32;
        pub fn channel_send(sender: u32, buf: *const u8, len: usize) -> u32;
        pub fn channel_receive_prepare(receiver: u32, len: *mut u32) -> u32;
        pub fn channel_receive(buf: *mut u8, len: usize) -> u32;
        pub fn drop_last_message();
        pub fn close_sender(sender: u32);
        pub fn close_receiver(receiver: u32);
        pub fn sender_serialize(sender: u32) -> u32;
        pub fn sender_deserialize(index: u32) -> u32;
        pub fn receiver_serialize(receiver: u32) -> u32;
        pub fn receiver_deserialize(index: u32) -> u32;
    }
}

/// Go to the back of the run queue.
pub fn yield_() {
    unsafe { ffi::yield_() }
}

/// Suspend this process (and only it) for at least `ms` milliseconds.
pub fn sleep_ms(ms: u64) {
    unsafe { ffi::sleep_ms(ms) }
}

// }======

// {====== messages: values as bytes

/// A value that can travel in a message.  `encode` appends its bytes;
/// `decode` reads them back from the front of `input` and advances it.
/// For channel ends both have a side effect on the host: encoding attaches
/// a new reference to the next message sent, decoding takes it out of the
/// last message received.
pub trait Message: Sized {
    fn encode(&self, out: &mut Vec<u8>);
    fn decode(input: &mut &[u8]) -> Self;
}

fn take<'a>(input: &mut &'a [u8], n: usize) -> &'a [u8] {
    assert!(input.len() >= n, "message too short");
    let (head, rest) = input.split_at(n);
    *input = rest;
    head
}

impl Message for () {
    fn encode(&self, _: &mut Vec<u8>) {}
    fn decode(_: &mut &[u8]) -> Self {}
}

impl Message for u32 {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
    fn decode(input: &mut &[u8]) -> Self {
        u32::from_le_bytes(take(input, 4).try_into().unwrap())
    }
}

impl Message for u64 {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
    fn decode(input: &mut &[u8]) -> Self {
        u64::from_le_bytes(take(input, 8).try_into().unwrap())
    }
}

impl Message for Vec<u8> {
    fn encode(&self, out: &mut Vec<u8>) {
        (self.len() as u64).encode(out);
        out.extend_from_slice(self);
    }
    fn decode(input: &mut &[u8]) -> Self {
        let len = u64::decode(input) as usize;
        take(input, len).to_vec()
    }
}

impl Message for String {
    fn encode(&self, out: &mut Vec<u8>) {
        (self.len() as u64).encode(out);
        out.extend_from_slice(self.as_bytes());
    }
    fn decode(input: &mut &[u8]) -> Self {
        String::from_utf8(Vec::<u8>::decode(input)).expect("not UTF-8")
    }
}

impl<T: Message> Message for Option<T> {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            None => out.push(0),
            Some(v) => {
                out.push(1);
                v.encode(out);
            }
        }
    }
    fn decode(input: &mut &[u8]) -> Self {
        match take(input, 1)[0] {
            0 => None,
            _ => Some(T::decode(input)),
        }
    }
}

impl<A: Message, B: Message> Message for (A, B) {
    fn encode(&self, out: &mut Vec<u8>) {
        self.0.encode(out);
        self.1.encode(out);
    }
    fn decode(input: &mut &[u8]) -> Self {
        let a = A::decode(input);
        (a, B::decode(input))
    }
}

impl<A: Message, B: Message, C: Message> Message for (A, B, C) {
    fn encode(&self, out: &mut Vec<u8>) {
        self.0.encode(out);
        self.1.encode(out);
        self.2.encode(out);
    }
    fn decode(input: &mut &[u8]) -> Self {
        let a = A::decode(input);
        let b = B::decode(input);
        (a, b, C::decode(input))
    }
}

// }======

// {====== channels

pub mod channel {
    use super::{ffi, Message, PhantomData, Rc};

    // The id in this process's table, closed when the last clone goes.
    struct SenderId(u32);
    struct ReceiverId(u32);

    impl Drop for SenderId {
        fn drop(&mut self) {
            unsafe { ffi::close_sender(self.0) }
        }
    }

    impl Drop for ReceiverId {
        fn drop(&mut self) {
            unsafe { ffi::close_receiver(self.0) }
        }
    }

    /// The sending end of a channel of T.  Clones share one table entry.
    pub struct Sender<T> {
        id: Rc<SenderId>,
        kind: PhantomData<T>,
    }

    /// The receiving end of a channel of T.  Clones share one table entry.
    pub struct Receiver<T> {
        id: Rc<ReceiverId>,
        kind: PhantomData<T>,
    }

    impl<T> Clone for Sender<T> {
        fn clone(&self) -> Self {
            Sender { id: self.id.clone(), kind: PhantomData }
        }
    }

    impl<T> Clone for Receiver<T> {
        fn clone(&self) -> Self {
            Receiver { id: self.id.clone(), kind: PhantomData }
        }
    }

    /// A channel without a limit: send never waits.
    pub fn unbounded<T: Message>() -> (Sender<T>, Receiver<T>) {
        make(0)
    }

    /// A channel holding at most `bound` messages: send waits while it is
    /// full.
    pub fn bounded<T: Message>(bound: u32) -> (Sender<T>, Receiver<T>) {
        assert!(bound > 0, "a bounded channel needs room for a message");
        make(bound)
    }

    fn make<T: Message>(bound: u32) -> (Sender<T>, Receiver<T>) {
        let mut receiver = 0;
        let sender = unsafe { ffi::channel(bound, &mut receiver) };
        (Sender::from_id(sender), Receiver::from_id(receiver))
    }

    impl<T: Message> Sender<T> {
        fn from_id(id: u32) -> Self {
            Sender { id: Rc::new(SenderId(id)), kind: PhantomData }
        }

        /// Send `value`, waiting while a bounded channel is full.  Err when
        /// no receiver is left anywhere (the value is then dropped).
        pub fn send(&self, value: T) -> Result<(), ()> {
            let mut bytes = Vec::new();
            value.encode(&mut bytes);
            // The host copies the bytes and takes along everything encode
            // serialized; `value` itself is dropped when we return.
            match unsafe { ffi::channel_send(self.id.0, bytes.as_ptr(), bytes.len()) } {
                0 => Ok(()),
                _ => Err(()),
            }
        }
    }

    impl<T: Message> Receiver<T> {
        pub(crate) fn from_id(id: u32) -> Self {
            Receiver { id: Rc::new(ReceiverId(id)), kind: PhantomData }
        }

        /// The next message, waiting while the channel is empty.  Err once
        /// it is empty and no sender is left anywhere.
        pub fn receive(&self) -> Result<T, ()> {
            let mut len = 0u32;
            if unsafe { ffi::channel_receive_prepare(self.id.0, &mut len) } != 0 {
                return Err(());
            }
            let mut bytes = vec![0u8; len as usize];
            if unsafe { ffi::channel_receive(bytes.as_mut_ptr(), bytes.len()) } != 0 {
                return Err(());
            }
            // Decoding may take channel ends out of the message, so the
            // host keeps it until drop_last_message.
            let value = T::decode(&mut &bytes[..]);
            unsafe { ffi::drop_last_message() };
            Ok(value)
        }
    }

    // A channel end in a message: the index of the copy attached to it.
    impl<T: Message> Message for Sender<T> {
        fn encode(&self, out: &mut Vec<u8>) {
            unsafe { ffi::sender_serialize(self.id.0) }.encode(out);
        }
        fn decode(input: &mut &[u8]) -> Self {
            let index = u32::decode(input);
            Sender::from_id(unsafe { ffi::sender_deserialize(index) })
        }
    }

    impl<T: Message> Message for Receiver<T> {
        fn encode(&self, out: &mut Vec<u8>) {
            unsafe { ffi::receiver_serialize(self.id.0) }.encode(out);
        }
        fn decode(input: &mut &[u8]) -> Self {
            let index = u32::decode(input);
            Receiver::from_id(unsafe { ffi::receiver_deserialize(index) })
        }
    }
}

// }======

// {====== processes

/// A child process.  Dropping it cancels the child; `join` or `detach`
/// let it run.
#[must_use = "a Process that is dropped cancels the child"]
pub struct Process {
    id: u32,
}

impl Drop for Process {
    fn drop(&mut self) {
        unsafe { ffi::cancel_process(self.id) }
    }
}

// What a spawn sends on the child's receiver 0: the table index of the
// function to run (a usize, which bincode writes as 8 bytes) and its
// argument.
struct Context<T> {
    function: fn(T),
    context: T,
}

impl<T: Message> Message for Context<T> {
    fn encode(&self, out: &mut Vec<u8>) {
        (self.function as usize as u64).encode(out);
        self.context.encode(out);
    }
    fn decode(input: &mut &[u8]) -> Self {
        let index = u64::decode(input) as usize;
        // On wasm32 a function pointer is its index in the table, and the
        // child's table is a fresh copy of its parent's.
        let function = unsafe { mem::transmute::<usize, fn(T)>(index) };
        Context { function, context: T::decode(input) }
    }
}

// The entry point of every child spawned with a context of type T (one
// instance of it per T, each in the function table).
unsafe extern "C" fn trampoline<T: Message>() {
    let receiver: channel::Receiver<Context<T>> = channel::Receiver::from_id(0);
    let start = receiver.receive().expect("no spawn context");
    (start.function)(start.context);
    // `receiver` goes here: close_receiver(0).
}

impl Process {
    /// Start a new process - a fresh instance of this program, sharing no
    /// memory with this one - that runs `function(context)`.  The context
    /// travels as a message, so it may carry channel ends.
    pub fn spawn_with<T: Message>(context: T, function: fn(T)) -> Process {
        let start = Context { function, context };
        let mut bytes = Vec::new();
        start.encode(&mut bytes);
        let id = unsafe { ffi::spawn_with_context(trampoline::<T>, bytes.as_ptr(), bytes.len()) };
        Process { id }
        // `start` is dropped here, closing this process's own references
        // to any channel ends it held; the child has its copies.
    }

    /// Wait for the child to end: Ok if its function returned (or it
    /// called exit(0)), Err if it trapped, panicked or exited with n != 0.
    pub fn join(self) -> Result<(), ()> {
        let result = unsafe { ffi::join(self.id) };
        mem::forget(self); // the handle is used up: no cancel
        match result {
            0 => Ok(()),
            _ => Err(()),
        }
    }

    /// Let the child run on its own; nobody can join or cancel it after.
    pub fn detach(self) {
        unsafe { ffi::detach_process(self.id) };
        mem::forget(self);
    }
}

// }======
