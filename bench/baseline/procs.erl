%% procs.erl - the Erlang side of lvm's green-process baselines.
%%
%% Small, equivalent programs measure the same figures on BEAM and in Go
%% (procs.go) that `make bench` measures on lvm, so the three can be
%% compared in one run on one machine.  run.sh compiles and starts this
%% module; each mode prints lines of exactly the form
%%
%%     bench: erlang_NAME VALUE UNIT
%%
%% Modes (the first argument after `-s procs main`):
%%   single     timed figures; start the VM with +S 1 (one scheduler)
%%   all        spawn_throughput_all; start the VM with all schedulers
%%   idle N     one cold sample of idle_proc_* (and, for N = 1000000,
%%              start_finish_1m); start a fresh VM with +S 1 +P 2000000.
%%              run.sh repeats it and takes the median, because a second
%%              sample in the same VM would reuse the memory the first one
%%              freed and show a smaller RSS delta.
%%
%% Each timed figure is the median of several repetitions after one
%% warm-up.  Nothing in here makes a process hold more than a few messages
%% at a time, so the default on-heap message queue is kept: the quadratic
%% case RUNTIME-NOTES describes (a million messages queued in one process,
%% re-scanned at each of its GCs) does not arise.
-module(procs).
-export([main/1]).

-define(REPS, 5).            % repetitions of the short figures
-define(REPS_1M, 3).         % repetitions of the million-spawn figures

main(Args) ->
    try
        run(Args),
        halt(0)   % flushes stdout first; quicker than -s init stop (~1 s)
    catch
        Class:Reason:Stack ->
            io:format(standard_error, "procs: ~p:~p~n~p~n", [Class, Reason, Stack]),
            halt(1)
    end.

run([single]) ->
    report(spawn_join, measure(?REPS, fun spawn_join/1, 100000), ns),
    report(batch_join, measure(?REPS, fun batch_join/1, 100000), ns),
    report(wake_parked, measure(?REPS, fun wake_parked/1, 1000), ns),
    report(spawn_throughput, measure(?REPS_1M, fun spawn_throughput/1, 1000000), 'spawns/s'),
    report(yield_switch, measure(?REPS, fun yield_switch/1, 500000), ns),
    report(pingpong, measure(?REPS, fun pingpong/1, 200000), ns),
    report(ring_hop, ring(10000, 10), ns);
run([all]) ->
    report(spawn_throughput_all, measure(?REPS_1M, fun spawn_throughput/1, 1000000), 'spawns/s');
run([idle, NAtom]) ->
    N = list_to_integer(atom_to_list(NAtom)),
    {BytesPerProc, Ms, ParkNs} = idle(N),
    report(list_to_atom("idle_proc_" ++ label(N)), BytesPerProc, bytes),
    report(list_to_atom("park_" ++ label(N)), ParkNs, ns),
    %% The fixed figure list has a timing for the million only.
    N =:= 1000000 andalso report(start_finish_1m, Ms, ms).

%% {====== helpers

now_ns() -> erlang:monotonic_time(nanosecond).

%% Runs Fun(N div 10) once to warm up, then Fun(N) Reps times; returns the
%% median of the results.
measure(Reps, Fun, N) ->
    _ = Fun(N div 10),
    Sorted = lists:sort([Fun(N) || _ <- lists:seq(1, Reps)]),
    lists:nth(Reps div 2 + 1, Sorted).

report(Name, Value, Unit) ->
    io:format("bench: erlang_~s ~.1f ~s~n", [Name, float(Value), Unit]).

label(100000) -> "100k";
label(1000000) -> "1m";
label(N) -> integer_to_list(N).

%% A countdown latch, the equivalent of Go's sync.WaitGroup: each process
%% that finishes calls count_down/3, and the one that brings the counter
%% to zero sends Msg to Parent.  The parent so gets one message, not N.
latch(N) ->
    Ref = atomics:new(1, []),
    atomics:put(Ref, 1, N),
    Ref.

count_down(Latch, Parent, Msg) ->
    case atomics:sub_get(Latch, 1, 1) of
        0 -> Parent ! Msg;
        _ -> ok
    end.

%% Resident memory of this OS process, in bytes (VmRSS is in kB).
rss() ->
    {ok, Status} = file:read_file("/proc/self/status"),
    {match, [Kb]} = re:run(Status, "VmRSS:\\s+([0-9]+) kB",
                           [{capture, all_but_first, list}]),
    list_to_integer(Kb) * 1024.

%% }======

%% {====== spawn

%% spawn_join: spawn a process that does nothing and wait for it to exit,
%% one at a time.  The monitor's 'DOWN' message is the exit notification.
%% Returns ns per spawn+join.
spawn_join(N) ->
    T0 = now_ns(),
    spawn_join_loop(N),
    (now_ns() - T0) / N.

spawn_join_loop(0) -> ok;
spawn_join_loop(K) ->
    {Pid, Ref} = spawn_monitor(fun() -> ok end),
    receive {'DOWN', Ref, process, Pid, _} -> ok end,
    spawn_join_loop(K - 1).

%% batch_join: spawn N processes that do nothing, each monitored, then
%% wait for every 'DOWN'.  Returns ns per process.
batch_join(N) ->
    T0 = now_ns(),
    Refs = [element(2, spawn_monitor(fun() -> ok end)) || _ <- lists:seq(1, N)],
    [receive {'DOWN', R, process, _, _} -> ok end || R <- Refs],
    (now_ns() - T0) / N.

%% wake_parked: N processes report in and block in receive; 50 ms later
%% each in turn gets a message and answers.  Returns the median ns from
%% the send to the answer.  They end after the measurement (stop).
wake_parked(N) ->
    Parent = self(),
    Pids = [spawn(fun() -> Parent ! {ready, self()},
                           receive ping -> Parent ! pong end,
                           receive stop -> ok end
                  end) || _ <- lists:seq(1, N)],
    [receive {ready, P} -> ok end || P <- Pids],
    timer:sleep(50),
    Ns = [begin
              T0 = now_ns(),
              P ! ping,
              receive pong -> ok end,
              now_ns() - T0
          end || P <- Pids],
    [P ! stop || P <- Pids],
    lists:nth(N div 2 + 1, lists:sort(Ns)).

%% spawn_throughput: spawn N trivial processes, then wait until all have
%% exited (through the latch).  Returns spawns per second.
spawn_throughput(N) ->
    Parent = self(),
    Latch = latch(N),
    Child = fun() -> count_down(Latch, Parent, all_exited) end,
    T0 = now_ns(),
    spawn_n(N, Child),
    receive all_exited -> ok end,
    N / ((now_ns() - T0) / 1.0e9).

spawn_n(0, _) -> ok;
spawn_n(K, Fun) -> spawn(Fun), spawn_n(K - 1, Fun).

%% }======

%% {====== switching and messages

%% yield_switch: two processes each call erlang:yield() K times.  With one
%% scheduler and nothing else runnable, every yield switches to the other
%% one.  Returns ns per switch (2K switches in all).
yield_switch(K) ->
    Parent = self(),
    Latch = latch(2),
    Yielder = fun() ->
                      receive go -> ok end,
                      yield_loop(K),
                      count_down(Latch, Parent, yielders_done)
              end,
    A = spawn(Yielder),
    B = spawn(Yielder),
    T0 = now_ns(),
    A ! go,
    B ! go,
    receive yielders_done -> ok end,
    (now_ns() - T0) / (2 * K).

yield_loop(0) -> ok;
yield_loop(K) -> erlang:yield(), yield_loop(K - 1).

%% pingpong: send `ping` to a process that answers `pong`, N times.  The
%% messages are atoms (nothing to copy), like Go's empty struct on an
%% unbuffered channel.  Returns ns per round trip.
pingpong(N) ->
    Parent = self(),
    Ponger = spawn(fun() -> pong(Parent) end),
    T0 = now_ns(),
    ping(N, Ponger),
    T = now_ns() - T0,
    Ponger ! stop,
    T / N.

ping(0, _) -> ok;
ping(K, Ponger) ->
    Ponger ! ping,
    receive pong -> ok end,
    ping(K - 1, Ponger).

pong(Parent) ->
    receive
        ping -> Parent ! pong, pong(Parent);
        stop -> ok
    end.

%% ring: Size processes, each knowing the next one, the last the first.
%% The token is an integer counting the hops still to do; the process that
%% receives 0 tells the parent.  The ring is built once, outside the timed
%% part, and reused by every repetition.  Returns ns per hop.
ring(Size, Laps) ->
    Parent = self(),
    Procs = [spawn(fun() -> receive {next, Next} -> ring_node(Next, Parent) end end)
             || _ <- lists:seq(1, Size)],
    [P ! {next, Next} || {P, Next} <- lists:zip(Procs, tl(Procs) ++ [hd(Procs)])],
    Pass = fun(Hops) ->
                   T0 = now_ns(),
                   hd(Procs) ! Hops,
                   receive ring_done -> ok end,
                   (now_ns() - T0) / Hops
           end,
    PerHop = measure(?REPS, Pass, Size * Laps),
    hd(Procs) ! stop,
    PerHop.

ring_node(Next, Parent) ->
    receive
        0 -> Parent ! ring_done, ring_node(Next, Parent);
        K when is_integer(K) -> Next ! K - 1, ring_node(Next, Parent);
        stop -> Next ! stop     % goes round once; the first is gone by then
    end.

%% }======

%% {====== idle processes

%% idle: start N processes that each block in a receive, measure the RSS
%% they added, then send each a message and wait until all have exited.
%% Returns {bytes per process, ms for start + finish, ns per process to
%% start them all and see every one blocked}.  The RSS reading
%% sits between the two timed phases and is not counted in the time.
%% The parent's list of pids (16 bytes per process) is counted in the RSS,
%% like the slice of channels in procs.go: a process you can't reach is no
%% use.
idle(N) ->
    Parent = self(),
    Started = latch(N),
    Exited = latch(N),
    Child = fun() ->
                    count_down(Started, Parent, all_started),
                    receive go -> ok end,
                    count_down(Exited, Parent, all_exited)
            end,
    garbage_collect(),
    Rss0 = rss(),
    T0 = now_ns(),
    Pids = spawn_list(N, Child, []),
    receive all_started -> ok end,   % every child is now blocked in receive
    T1 = now_ns(),
    Rss1 = rss(),
    T2 = now_ns(),
    release(Pids),
    receive all_exited -> ok end,
    T3 = now_ns(),
    {(Rss1 - Rss0) / N, ((T1 - T0) + (T3 - T2)) / 1.0e6, (T1 - T0) / N}.

spawn_list(0, _, Acc) -> Acc;
spawn_list(K, Fun, Acc) -> spawn_list(K - 1, Fun, [spawn(Fun) | Acc]).

release([]) -> ok;
release([P | Ps]) -> P ! go, release(Ps).

%% }======
