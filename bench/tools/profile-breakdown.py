#!/usr/bin/env python3
"""Where the CPU goes, from a dotnet-trace sampled-thread-time trace converted to speedscope.

Usage:
  dotnet dotnet-trace collect --profile dotnet-sampled-thread-time -o t.nettrace -- <bench> <args>
  dotnet dotnet-trace convert --format speedscope -o t.json t.nettrace
  python3 bench/tools/profile-breakdown.py t.speedscope.json [top] [--after REGEX]

--after REGEX counts only thread time from the first moment a frame matching REGEX is on any stack, so one phase
of a scenario (say, the expiries after the set-up bans: --after HandleExpiry) can be read on its own.

Thread-time samples every managed thread ~100 times a second, blocked or not. Samples whose innermost frame is a
wait (semaphore, monitor, event, epoll, sleep) are dropped, so what remains approximates CPU use (spinning counts
as CPU, as it is). Each remaining sample is charged to the innermost frame that belongs to a known component, and
the top frames by inclusive share are listed.
"""
import json, re, sys
from collections import Counter

WAIT = re.compile(r"WaitNative|WaitForSignal|WaitOneNoCheck|Monitor\.Wait|WaitHandle\.Wait|Thread\.Sleep|"
                  r"epoll|SocketAsyncEngine\.EventLoop|Interop\+Sys\.WaitForSocketEvents|ReadFromConsole|"
                  r"Interop\+Sys\.Read\(|Thread\.Join|ManualResetEventSlim\.Wait|SemaphoreSlim\.Wait|"
                  r"WaitForPendingFinalizers|LowLevelLifoSemaphore\.Wait\(|TimerQueue\.TimerThread|"
                  r"PollGC|Console|WaitSubsystem|BlockingCollection|Task\.Wait|SpinWait\.SpinOnce\(int32,int32\)|"
                  r"WaitHandle\.WaitMultiple|Interop\+Sys\.Poll|"
                  # Threads parked in native code whose sample keeps their last managed frame: the finalizer thread
                  # (waiting for work, or after a gen2 GC in the array pools' trim callback) and the configuration
                  # file watcher (a blocking inotify read). Each showed up as 19-29% "busy" on an otherwise idle thread.
                  r"GC\.RunFinalizers\(\)$|GC\.GetGCMemoryInfo|FileSystemWatcher\+RunningInstance\.TryReadEvent")
COMPONENTS = [
    ("SQLite statement execution (native sqlite3, incl. commit and fsync)", re.compile(r"SQLitePCL|sqlite3_|e_sqlite3|SqliteDataReader\.NextResult")),
    ("Microsoft.Data.Sqlite (ADO.NET)", re.compile(r"^Microsoft\.Data\.Sqlite!")),
    ("linq2db (query building, mapping, compilation)", re.compile(r"^linq2db!")),
    ("Akka.Persistence.Sql (journal DAO)", re.compile(r"^Akka\.Persistence\.Sql!")),
    ("Akka.Streams (journal write queue, queries)", re.compile(r"^Akka\.Streams!")),
    ("Akka.Persistence (Eventsourced, recovery, Persist)", re.compile(r"^Akka\.Persistence!")),
    ("Akka core (mailboxes, dispatch, Ask, scheduler)", re.compile(r"^Akka!")),
    ("BanActors engine", re.compile(r"^BanActors!")),
    ("bench driver", re.compile(r"^BanActors\.Bench!")),
    ("thread-pool spinning (LowLevelSpinWaiter)", re.compile(r"LowLevelSpinWaiter")),
    ("GC / finalizers (incl. DynamicMethod finalization)", re.compile(r"GC\.|Finalize|DynamicResolver")),
]
PSEUDO = {"CPU_TIME", "UNMANAGED_CODE_TIME", "READIED_TIME", "BLOCKED_TIME", "?!?"}

def intervals(p, start=None):
    """(stack, weight) pairs from a speedscope profile, sampled or evented (open/close events, time-weighted)."""
    if p["type"] == "sampled":
        yield from zip(p["samples"], p.get("weights") or [1] * len(p["samples"]))
        return
    stack, last = [], None
    for e in p["events"]:
        if last is not None and e["at"] > last and stack and (start is None or last >= start):
            yield list(stack), e["at"] - last
        last = e["at"]
        if e["type"] == "O":
            stack.append(e["frame"])
        elif stack:
            # Close events name their frame; pop down to it (speedscope requires proper nesting).
            while stack and stack.pop() != e["frame"]:
                pass

def first_seen(d, frames, rx):
    """The earliest time at which a frame matching rx is opened in any evented profile (None if never)."""
    hits = {i for i, name in enumerate(frames) if rx.search(name)}
    times = [e["at"] for p in d["profiles"] if p["type"] == "evented"
             for e in p["events"] if e["type"] == "O" and e["frame"] in hits]
    return min(times) if times else None

def main(path, top=30, after=None):
    d = json.load(open(path))
    frames = [f["name"] for f in d["shared"]["frames"]]
    start = first_seen(d, frames, re.compile(after)) if after else None
    if after:
        print(f"counting from the first frame matching {after!r}: " + ("never seen" if start is None else f"at {start / 1000:.1f} s"))
    total = running = 0
    by_component = Counter()
    inclusive = Counter()
    for p in d["profiles"]:
        for stack, w in intervals(p, start):
            total += w
            if not stack:
                continue
            real = [frames[i] for i in stack if frames[i] not in PSEUDO]
            leaf = real[-1] if real else ""
            if WAIT.search(leaf) or not real:
                continue
            running += w
            names = [frames[i] for i in stack]
            comp = "other (System.*, runtime)"
            for name in reversed(names):
                hit = next((c for c, rx in COMPONENTS if rx.search(name)), None)
                if hit:
                    comp = hit
                    break
            by_component[comp] += w
            for name in set(names):
                inclusive[name] += w
    print(f"thread time: {total / 1000:.1f} s, busy (not parked in a wait): {running / 1000:.1f} s")
    print("\n| component (innermost known frame) | share of busy thread time |\n|---|---:|")
    for comp, w in by_component.most_common():
        print(f"| {comp} | {100.0 * w / running:.1f}% |")
    print(f"\n| top frames by inclusive share of busy thread time | % |\n|---|---:|")
    for name, w in inclusive.most_common(top):
        print(f"| `{name[:140]}` | {100.0 * w / running:.1f}% |")

if __name__ == "__main__":
    args = sys.argv[1:]
    after = None
    if "--after" in args:
        i = args.index("--after")
        after = args[i + 1]
        del args[i:i + 2]
    main(args[0], int(args[1]) if len(args) > 1 else 30, after)
