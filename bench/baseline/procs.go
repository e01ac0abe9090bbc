// procs.go - the Go side of lvm's green-process baselines.
//
// Small, equivalent programs measure the same figures in Go and on BEAM
// (procs.erl) that `make bench` measures on lvm, so the three can be
// compared in one run on one machine.  run.sh builds and starts this
// program (standard library only); each mode prints lines of exactly the
// form
//
//	bench: go_NAME VALUE UNIT
//
// Modes (the first argument):
//
//	single   timed figures; run with GOMAXPROCS=1 (one P)
//	all      spawn_throughput_all; run with GOMAXPROCS unset (all CPUs)
//	idle N   one cold sample of idle_proc_* (and, for N = 1000000,
//	         start_finish_1m).  run.sh starts a fresh process for each
//	         sample and takes the median: in the same process a second
//	         sample would reuse the dead goroutines (and their stacks)
//	         of the first and show almost no RSS growth.
//
// A goroutine has no mailbox, so where an Erlang process waits in a
// receive, a goroutine here waits on a channel of its own, and where
// Erlang monitors a process, Go closes a channel or counts down a
// sync.WaitGroup.
package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

const (
	reps   = 5 // repetitions of the short figures
	reps1M = 3 // repetitions of the million-spawn figures
)

func main() {
	if len(os.Args) < 2 {
		fail("usage: procs single | all | idle N")
	}
	switch os.Args[1] {
	case "single":
		report("spawn_join", measure(reps, spawnJoin, 100000), "ns")
		report("spawn_throughput", measure(reps1M, spawnThroughput, 1000000), "spawns/s")
		report("yield_switch", measure(reps, yieldSwitch, 500000), "ns")
		report("pingpong", measure(reps, pingpong, 200000), "ns")
		report("ring_hop", ring(10000, 10), "ns")
	case "all":
		report("spawn_throughput_all", measure(reps1M, spawnThroughput, 1000000), "spawns/s")
	case "idle":
		if len(os.Args) < 3 {
			fail("usage: procs idle N")
		}
		n, err := strconv.Atoi(os.Args[2])
		if err != nil || n <= 0 {
			fail("idle: bad N " + os.Args[2])
		}
		bytesPerProc, ms := idle(n)
		report("idle_proc_"+label(n), bytesPerProc, "bytes")
		// The fixed figure list has a timing for the million only.
		if n == 1000000 {
			report("start_finish_1m", ms, "ms")
		}
	default:
		fail("unknown mode " + os.Args[1])
	}
}

// {====== helpers

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "procs:", msg)
	os.Exit(1)
}

// measure runs f(n/10) once to warm up, then f(n) reps times, and
// returns the median of the results.
func measure(reps int, f func(int) float64, n int) float64 {
	f(n / 10)
	v := make([]float64, reps)
	for i := range v {
		v[i] = f(n)
	}
	sort.Float64s(v)
	return v[reps/2]
}

func report(name string, value float64, unit string) {
	fmt.Printf("bench: go_%s %.1f %s\n", name, value, unit)
}

func label(n int) string {
	switch n {
	case 100000:
		return "100k"
	case 1000000:
		return "1m"
	}
	return strconv.Itoa(n)
}

func perOp(d time.Duration, n int) float64 { return float64(d.Nanoseconds()) / float64(n) }

// rss returns the resident memory of this OS process in bytes (VmRSS is
// in kB): the same counter is read for Go, Erlang and lvm.  Go's own
// runtime.MemStats counts what the runtime has mapped or put to use,
// which is neither what is resident nor comparable with the others.
func rss() float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		fail(err.Error())
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 3 && fields[0] == "VmRSS:" {
			kb, err := strconv.Atoi(fields[1])
			if err != nil {
				break
			}
			return float64(kb) * 1024
		}
	}
	fail("no VmRSS in /proc/self/status")
	return 0
}

// }======

// {====== spawn

// spawnJoin starts a goroutine that does nothing but close its done
// channel, and waits for that, one at a time: the equivalent of
// spawn_monitor + 'DOWN'.  Returns ns per spawn+join.
func spawnJoin(n int) float64 {
	start := time.Now()
	for i := 0; i < n; i++ {
		done := make(chan struct{})
		go func() { close(done) }()
		<-done
	}
	return perOp(time.Since(start), n)
}

// spawnThroughput starts n trivial goroutines, then waits until all have
// finished.  Returns spawns per second.
func spawnThroughput(n int) float64 {
	var wg sync.WaitGroup
	wg.Add(n)
	start := time.Now()
	for i := 0; i < n; i++ {
		go wg.Done()
	}
	wg.Wait()
	return float64(n) / time.Since(start).Seconds()
}

// }======

// {====== switching and messages

// yieldSwitch: two goroutines each call runtime.Gosched() k times.  With
// one P and nothing else runnable, every Gosched switches to the other
// one.  Returns ns per switch (2k switches in all).
func yieldSwitch(k int) float64 {
	var ready, wg sync.WaitGroup
	gate := make(chan struct{})
	ready.Add(2)
	wg.Add(2)
	for g := 0; g < 2; g++ {
		go func() {
			ready.Done()
			<-gate
			for i := 0; i < k; i++ {
				runtime.Gosched()
			}
			wg.Done()
		}()
	}
	ready.Wait() // both goroutines exist and wait at the gate
	start := time.Now()
	close(gate)
	wg.Wait()
	return perOp(time.Since(start), 2*k)
}

// pingpong: send on an unbuffered channel to a goroutine that answers on
// another, n times.  Returns ns per round trip.
func pingpong(n int) float64 {
	ping := make(chan struct{})
	pong := make(chan struct{})
	go func() {
		for range ping {
			pong <- struct{}{}
		}
	}()
	start := time.Now()
	for i := 0; i < n; i++ {
		ping <- struct{}{}
		<-pong
	}
	d := time.Since(start)
	close(ping)
	return perOp(d, n)
}

// ring: size goroutines, goroutine i receiving on link[i] and sending on
// link[i+1], the last one on link[0].  The token is the number of hops
// still to do; the goroutine that receives 0 tells main.  The ring is
// built once, outside the timed part, and reused by every repetition.
// A negative token stops the ring.  Returns ns per hop.
func ring(size, laps int) float64 {
	link := make([]chan int, size)
	for i := range link {
		link[i] = make(chan int)
	}
	done := make(chan struct{})
	for i := 0; i < size; i++ {
		in, out, last := link[i], link[(i+1)%size], i == size-1
		go func() {
			for k := range in {
				switch {
				case k == 0:
					done <- struct{}{}
				case k > 0:
					out <- k - 1
				default: // stop: pass it on, except back to the first
					if !last {
						out <- k
					}
					return
				}
			}
		}()
	}
	pass := func(hops int) float64 {
		start := time.Now()
		link[0] <- hops
		<-done
		return perOp(time.Since(start), hops)
	}
	perHop := measure(reps, pass, size*laps)
	link[0] <- -1
	return perHop
}

// }======

// {====== idle processes

// idle starts n goroutines that each block receiving on a channel of
// their own, measures the RSS they added, then sends on every channel and
// waits until all have finished.  Returns bytes per goroutine and ms for
// start + finish.  The RSS reading sits between the two timed phases and
// is not counted in the time.  The slice of channels (8 bytes + one
// channel per goroutine) is counted in the RSS, like the pid list in
// procs.erl.
func idle(n int) (float64, float64) {
	var started, finished sync.WaitGroup
	started.Add(n)
	finished.Add(n)
	runtime.GC()
	rss0 := rss()
	t0 := time.Now()
	chans := make([]chan struct{}, n)
	for i := range chans {
		ch := make(chan struct{})
		chans[i] = ch
		go func() {
			started.Done()
			<-ch
			finished.Done()
		}()
	}
	started.Wait() // every goroutine is now blocked on its channel
	startTime := time.Since(t0)
	rss1 := rss()
	t2 := time.Now()
	for _, ch := range chans {
		ch <- struct{}{}
	}
	finished.Wait()
	finishTime := time.Since(t2)
	ms := float64((startTime + finishTime).Nanoseconds()) / 1e6
	return (rss1 - rss0) / float64(n), ms
}

// }======
