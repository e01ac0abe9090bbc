// rs_lunatic.rs - a Rust std guest of tests/lunatic: one scenario of the
// lunatic 0.3 process and channel API per argv[1], driven the way the
// `lunatic` crate 0.3.10 drives it (see lunatic_rs.rs).  Children are
// fresh instances of this program that start in the function given to
// Process::spawn_with; everything they need comes in their context.
// Only the main process prints, except where a scenario says otherwise,
// and test_rust.c compares the output.
//
// Built twice (mk/lunatic.mk): rs_lunatic.wasm keeps the `name` section,
// rs_lunatic_stripped.wasm has none, so a child's __wasm_call_ctors must
// be found through the first call in the exported _start (ABI D10).

#[path = "lunatic_rs.rs"]
mod lunatic;

use lunatic::channel::{self, Receiver, Sender};
use lunatic::{sleep_ms, Process};
use std::env;
use std::fs;
use std::io;
use std::time::Duration;

// {====== many children computing, one of them panicking

fn count_primes(below: u64) -> u64 {
    let n = below as usize;
    let mut composite = vec![false; n];
    let mut count = 0;
    for i in 2..n {
        if !composite[i] {
            count += 1;
            for j in (i * i..n).step_by(i) {
                composite[j] = true;
            }
        }
    }
    count
}

fn primes_child((n, results): (u64, Sender<(u64, u64)>)) {
    let count = count_primes(n * 1000);
    lunatic::yield_();
    results.send((n, count)).unwrap();
}

/// 16 children count primes and send (n, count) back; the results
/// channel closes when the last child is gone.
fn compute() {
    let (results, all) = channel::unbounded();
    let children: Vec<Process> =
        (1..=16).map(|n| Process::spawn_with((n, results.clone()), primes_child)).collect();
    drop(results);
    let mut got = Vec::new();
    while let Ok(r) = all.receive() {
        got.push(r);
    }
    got.sort();
    for (n, count) in &got {
        println!("primes below {}: {}", n * 1000, count);
    }
    let failed = children.into_iter().filter_map(|c| c.join().err()).count();
    println!("{} results, {} failed", got.len(), failed);
}

fn square_or_panic((n, results): (u64, Sender<(u64, u64)>)) {
    if n == 2 {
        // panic=abort: the hook prints the message, then a trap.  No
        // destructor runs, so the host must drop this child's sender.
        panic!("child {} gives up", n);
    }
    sleep_ms(5);
    results.send((n, n * n)).unwrap();
}

fn panic_child() {
    let (results, all) = channel::unbounded();
    let children: Vec<Process> =
        (0..5).map(|n| Process::spawn_with((n, results.clone()), square_or_panic)).collect();
    drop(results);
    let mut got = Vec::new();
    while let Ok(r) = all.receive() {
        got.push(r);
    }
    got.sort();
    println!("results {:?}", got);
    let joins: Vec<Result<(), ()>> = children.into_iter().map(Process::join).collect();
    println!("joins {:?}", joins);
}

// }======

// {====== std in a child: what __wasm_call_ctors sets up

// Run as `lvm run --dir HOST::/data --env GREETING=hi rs_lunatic.wasm
// ctors /data/FILE`: arguments and environment are the same in every
// process, and wasi-libc fetches them on first use.  Preopened
// directories are different: wasi-libc learns them only in the
// constructor __wasilibc_populate_preopens, so a child that did not run
// __wasm_call_ctors (ABI D10) cannot open any file.
fn describe(who: &str, args: &[String]) -> String {
    let greeting = env::var("GREETING").unwrap_or_default();
    let file = match args.get(1) {
        Some(path) => fs::read_to_string(path).map(|t| t.trim_end().to_string()).map_err(|e| e.kind()),
        None => Err(io::ErrorKind::NotFound),
    };
    format!("{}: args {:?}, GREETING={}, file {:?}", who, args, greeting, file)
}

fn report_env(report: Sender<String>) {
    let args: Vec<String> = env::args().skip(1).collect();
    report.send(describe("child", &args)).unwrap();
}

fn ctors() {
    let args: Vec<String> = env::args().skip(1).collect();
    println!("{}", describe("main", &args));
    let (report, reports) = channel::unbounded();
    let child = Process::spawn_with(report, report_env);
    println!("{}", reports.receive().unwrap_or_else(|_| "child: no report".to_string()));
    println!("join {:?}", child.join());
}

// }======

// {====== bounded channel back-pressure

const SENT: u32 = 0;
const TAKE: u32 = 1;
const ITEMS: u64 = 20;
const BOUND: u32 = 2;

// Log "sent i" after each send has returned.
fn producer((data, log): (Sender<u64>, Sender<(u32, u64)>)) {
    for i in 0..ITEMS {
        data.send(i).unwrap();
        log.send((SENT, i)).unwrap();
    }
}

/// A producer as fast as it can be, a consumer that pauses before each
/// receive and logs "take i" before it.  Send i can only return once item
/// i - BOUND has been taken, so in the shared log (one channel, FIFO) the
/// producer is never more than BOUND items ahead - whatever the timing.
fn backpressure() {
    let (data, items) = channel::bounded(BOUND);
    let (log, events) = channel::unbounded();
    let p = Process::spawn_with((data, log.clone()), producer);
    let mut received = Vec::new();
    for i in 0..ITEMS {
        sleep_ms(2);
        log.send((TAKE, i)).unwrap();
        received.push(items.receive().unwrap());
    }
    let closed = items.receive().is_err();
    println!("received {} items in order: {}", received.len(), received == (0..ITEMS).collect::<Vec<_>>());
    println!("producer {:?}, then closed: {}", p.join(), closed);
    drop(log);
    let (mut sent, mut taken, mut lead) = (0i64, 0i64, 0i64);
    while let Ok((what, _)) = events.receive() {
        if what == SENT {
            sent += 1;
            lead = lead.max(sent - taken);
        } else {
            taken += 1;
        }
    }
    println!("{} sent, {} taken, the producer at most {} ahead", sent, taken, lead);
}

// }======

// {====== closing channels

fn send_three(words: Sender<String>) {
    for w in ["one", "two", "three"] {
        words.send(w.to_string()).unwrap();
    }
}

fn take_one(numbers: Receiver<u64>) {
    numbers.receive().unwrap();
}

fn close() {
    // Receive after every sender is gone: the queue drains, then Err.
    let (words, inbox) = channel::unbounded::<String>();
    let child = Process::spawn_with(words, send_three);
    println!("writer {:?}", child.join());
    while let Ok(w) = inbox.receive() {
        println!("received {}", w);
    }
    println!("then {:?}", inbox.receive());

    // Send after every receiver is gone: Err.
    let (numbers, outbox) = channel::unbounded::<u64>();
    let child = Process::spawn_with(outbox, take_one);
    println!("send while a receiver lives: {:?}", numbers.send(1));
    println!("reader {:?}", child.join());
    println!("send after it is gone: {:?}", numbers.send(2));

    // Clones share one reference: only the last drop closes.
    let (s, r) = channel::unbounded::<u64>();
    let s2 = s.clone();
    drop(s);
    println!("clone still sends: {:?}", s2.send(7));
    println!("receive {:?}", r.receive());
    drop(s2);
    println!("after the last clone: {:?}", r.receive());

    // Bounded, receiver dropped right away: a send fails, never waits.
    let (s, r) = channel::bounded::<u64>(1);
    drop(r);
    println!("bounded without a receiver: {:?}", s.send(1));
}

// }======

// {====== moving channel ends: main -> B -> C

type Note = (String, Option<Sender<String>>);

fn proc_c((notes, replies): (Receiver<Note>, Sender<String>)) {
    let (text, _) = notes.receive().unwrap();
    replies.send(format!("C got {}", text)).unwrap();
    // main drops the last sender of `notes`: this receive sees it.
    if notes.receive().is_err() {
        replies.send("C saw close".to_string()).unwrap();
    }
}

fn proc_b(notes: Receiver<Note>) {
    let (text, replies) = notes.receive().unwrap();
    let replies = replies.expect("a sender in the note");
    replies.send(format!("B got {}", text)).unwrap();
    // Pass both ends on; B's own references go when it returns.
    Process::spawn_with((notes, replies), proc_c).detach();
}

/// A receiver moved in a spawn context (main -> B), a sender moved inside
/// a message (main -> B), both moved on to C in C's context.
fn move3() {
    let (notes, notes_in) = channel::unbounded::<Note>();
    let (replies_out, replies) = channel::unbounded::<String>();
    let b = Process::spawn_with(notes_in, proc_b);
    notes.send(("hello".to_string(), Some(replies_out))).unwrap();
    println!("B {:?}", b.join());
    notes.send(("second".to_string(), None)).unwrap();
    for _ in 0..2 {
        println!("{}", replies.receive().unwrap());
    }
    // C holds the only receiver of `notes`, main the only sender: C sees
    // the channel close when main lets go.
    drop(notes);
    println!("{}", replies.receive().unwrap());
    println!("replies closed: {}", replies.receive().is_err());
}

// }======

// {====== exit, panic, detach

fn exit_zero(_: ()) {
    std::process::exit(0);
}

fn exit_five(_: ()) {
    std::process::exit(5);
}

fn exit_child() {
    println!("exit(0) in a child: join {:?}", Process::spawn_with((), exit_zero).join());
    println!("exit(5) in a child: join {:?}", Process::spawn_with((), exit_five).join());
}

fn exit_main() {
    println!("main exits with 3");
    std::process::exit(3);
}

#[inline(never)]
fn panic_main() {
    println!("main panics");
    panic!("main gives up");
}

fn sleep_forever(ready: Sender<u64>) {
    ready.send(1).unwrap();
    loop {
        std::thread::sleep(Duration::from_secs(1));
    }
}

// Wait on a channel of our own: its only sender is ours too, so it never
// closes, whatever the other processes do.
fn wait_forever(ready: Sender<u64>) {
    let (_keep, never) = channel::unbounded::<u64>();
    ready.send(2).unwrap();
    let _ = never.receive();
    println!("never printed");
}

/// main returns while one detached child sleeps in std::thread::sleep and
/// another waits on a channel: lvm exits 0 at once (D4).
fn detached() {
    let (ready, readies) = channel::unbounded();
    Process::spawn_with(ready.clone(), sleep_forever).detach();
    Process::spawn_with(ready, wait_forever).detach();
    let sum = readies.receive().unwrap() + readies.receive().unwrap();
    println!("both children ready ({}), main returns", sum);
}

// Hold a receiver and sleep: the channel stays open while this lives.
fn hold_receiver((ready, _inbox): (Sender<u64>, Receiver<u64>)) {
    ready.send(0).unwrap();
    loop {
        sleep_ms(1000);
    }
}

/// Dropping a Process cancels the child (the crate's Drop calls
/// cancel_process); the host then drops its receiver, which closes the
/// channel for main's sends.
fn cancel_on_drop() {
    let (ready, readies) = channel::unbounded();
    let (numbers, inbox) = channel::unbounded::<u64>();
    let child = Process::spawn_with((ready, inbox), hold_receiver);
    readies.receive().unwrap();
    println!("send while the child lives: {:?}", numbers.send(1));
    drop(child);
    let mut tries = 0;
    while numbers.send(2).is_ok() && tries < 1000 {
        sleep_ms(1);
        tries += 1;
    }
    println!("after the drop: {}", if tries < 1000 { "sends fail" } else { "sends still succeed" });
}

// }======

// {====== std::thread::sleep in many processes at once

fn sleeper((n, done): (u64, Sender<u64>)) {
    std::thread::sleep(Duration::from_millis(100 * (5 - n)));
    done.send(n).unwrap();
}

/// Five children sleep 500, 400, 300, 200 and 100 ms, spawned in that
/// order.  poll_oneoff suspends only the caller (D12), so they wake in
/// the reverse order, even on one worker.
fn sleepers() {
    let (done, woken) = channel::unbounded();
    let children: Vec<Process> = (0..5).map(|n| Process::spawn_with((n, done.clone()), sleeper)).collect();
    drop(done);
    let mut order = Vec::new();
    while let Ok(n) = woken.receive() {
        order.push(n);
    }
    let failed = children.into_iter().filter_map(|c| c.join().err()).count();
    println!("woke in order {:?}, {} failed", order, failed);
}

// }======

// {====== a ring of 1,000 processes

const RING: usize = 1000;
const LAPS: u64 = 3;

fn ring_node((inbox, next): (Receiver<u64>, Sender<u64>)) {
    for _ in 0..LAPS {
        let token = inbox.receive().unwrap();
        next.send(token + 1).unwrap();
    }
}

/// Node k receives from channel k and sends to channel k + 1; main sends
/// into the first and receives from the last, LAPS times around.
fn ring() {
    let (first, mut inbox) = channel::unbounded::<u64>();
    let mut nodes = Vec::with_capacity(RING);
    for _ in 0..RING {
        let (next, next_inbox) = channel::unbounded::<u64>();
        nodes.push(Process::spawn_with((inbox, next), ring_node));
        inbox = next_inbox;
    }
    let mut token = 0;
    for _ in 0..LAPS {
        first.send(token).unwrap();
        token = inbox.receive().unwrap();
    }
    let failed = nodes.into_iter().filter_map(|p| p.join().err()).count();
    println!("ring of {} processes, {} laps: token {}, {} failed", RING, LAPS, token, failed);
}

// }======

fn main() {
    let scenario = env::args().nth(1).unwrap_or_default();
    match scenario.as_str() {
        "compute" => compute(),
        "panic_child" => panic_child(),
        "ctors" => ctors(),
        "backpressure" => backpressure(),
        "close" => close(),
        "move3" => move3(),
        "exit_child" => exit_child(),
        "exit_main" => exit_main(),
        "panic_main" => panic_main(),
        "detached" => detached(),
        "cancel_on_drop" => cancel_on_drop(),
        "sleepers" => sleepers(),
        "ring" => ring(),
        _ => {
            eprintln!("unknown scenario {:?}", scenario);
            std::process::exit(2);
        }
    }
}
