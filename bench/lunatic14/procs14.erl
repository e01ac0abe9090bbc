%% procs14.erl - Erlang's figures for `make bench-lunatic14` (run.sh puts
%% them beside lvm's).  Run: erl -noshell +S 1 -s procs14 main
%%
%%   erlang_spawn_monitor  ns per spawn_monitor + 'DOWN', one at a time
%%   erlang_pingpong       ns per message round trip between two processes
%%   erlang_restart        ns per restart of a child that exits at once,
%%                         under a one_for_one supervisor
%%   erlang_monitored      ms for 100,000 spawn_monitor'ed children that
%%                         all exit, until the last 'DOWN'
%%
%% The timed figures are the median of five runs after a warm-up of a
%% tenth, as the C guest's.
-module(procs14).
-behaviour(supervisor).
-export([main/0, init/1, start_child/1]).

now_ns() -> erlang:monotonic_time(nanosecond).

median(F, N) ->
    F(max(1, N div 10)),
    L = lists:sort([F(N) || _ <- lists:seq(1, 5)]),
    lists:nth(3, L).

spawn_monitor_loop(0) -> ok;
spawn_monitor_loop(N) ->
    {_, R} = spawn_monitor(fun() -> ok end),
    receive {'DOWN', R, _, _, _} -> ok end,
    spawn_monitor_loop(N - 1).

spawn_down(N) ->
    T0 = now_ns(), spawn_monitor_loop(N), (now_ns() - T0) / N.

echo() -> receive {From, Ref} -> From ! Ref, echo() end.

ping(_, 0) -> ok;
ping(E, N) -> Ref = make_ref(), E ! {self(), Ref}, receive Ref -> ok end, ping(E, N - 1).

pingpong(N) ->
    E = spawn(fun echo/0),
    T0 = now_ns(), ping(E, N), T = (now_ns() - T0) / N,
    exit(E, kill), T.

%% The supervisor: one permanent child that exits at once, restarted
%% until the benchmark has counted its N starts.
init(Parent) ->
    {ok, {#{strategy => one_for_one, intensity => 100000000, period => 1},
          [#{id => c, start => {?MODULE, start_child, [Parent]}, restart => permanent}]}}.

start_child(Parent) ->
    Parent ! started,
    {ok, spawn_link(fun() -> exit(crash) end)}.

count(0) -> ok;
count(N) -> receive started -> count(N - 1) end.

restart(N) ->
    process_flag(trap_exit, true),
    {ok, Sup} = supervisor:start_link(?MODULE, self()),
    receive started -> ok end,
    T0 = now_ns(), count(N), T = (now_ns() - T0) / N,
    unlink(Sup), exit(Sup, kill),
    flush(), T.

flush() -> receive _ -> flush() after 0 -> ok end.

spawn_many(0) -> ok;
spawn_many(N) -> spawn_monitor(fun() -> ok end), spawn_many(N - 1).

wait_downs(0) -> ok;
wait_downs(N) -> receive {'DOWN', _, _, _, _} -> wait_downs(N - 1) end.

monitored(N) ->
    T0 = now_ns(), spawn_many(N), wait_downs(N), (now_ns() - T0) / 1.0e6.

main() ->
    error_logger:tty(false),
    logger:set_primary_config(level, none),
    io:format("bench: erlang_spawn_monitor ~w ns~n", [round(median(fun spawn_down/1, 20000))]),
    io:format("bench: erlang_pingpong ~w ns~n", [round(median(fun pingpong/1, 100000))]),
    io:format("bench: erlang_restart ~w ns~n", [round(median(fun restart/1, 20000))]),
    io:format("bench: erlang_monitored ~.1f ms~n", [monitored(100000)]),
    halt().
