//! Threads: the C guest (creation and join, ids, shared descriptors, a thread's exit and the
//! last thread ending the process, exit_group and fatal signals from a thread, thread- and
//! process-directed signals, sigwait in a thread, fork of a multithreaded process, execve from
//! a thread other than the first, barriers), /proc/<pid>/task and /proc/thread-self, threads'
//! own CPU clocks, python3's
//! threading and multiprocessing.Pool, run natively and sandboxed with the outputs compared.

use sandbox_tests::{assert_same, guest, on_path};

#[test]
fn threads_match_native() {
    assert_same(&guest("threads"), &[], &[]);
}

#[test]
fn proc_task_matches_native() {
    assert_same(&guest("proctask"), &[], &[]);
}

#[test]
fn thread_cpu_clocks_match_native() {
    assert_same(&guest("threadclock"), &[], &[]);
}

/// A process whose first thread exits before the others, then (so that a reused stub would be
/// the one serving them) children that take a timer signal while they spin.
#[test]
fn leader_exit_then_children_match_native() {
    assert_same(&guest("leaderexit"), &[], &[]);
}

#[test]
fn python3_threads_match_native() {
    if !on_path("python3") {
        eprintln!("python3 is not installed: skipped (scripts/test.sh installs it)");
        return;
    }
    let script = r#"
import queue, threading
results = queue.Queue()
def work(i):
    results.put((i, sum(range(i * 1000))))
threads = [threading.Thread(target=work, args=(i,)) for i in range(32)]
for t in threads: t.start()
for t in threads: t.join()
got = sorted(results.get() for _ in range(32))
print(len(got), sum(v for _, v in got))
lock = threading.Lock()
count = [0]
def add():
    for _ in range(10000):
        with lock: count[0] += 1
ts = [threading.Thread(target=add) for _ in range(8)]
for t in ts: t.start()
for t in ts: t.join()
print("count", count[0], "alive", threading.active_count())
"#;
    assert_same(std::path::Path::new("/usr/bin/env"), &["python3", "-c", script], &[]);
}

#[test]
fn python3_multiprocessing_pool_matches_native() {
    if !on_path("python3") {
        eprintln!("python3 is not installed: skipped (scripts/test.sh installs it)");
        return;
    }
    // Pool(4): worker processes, their threads, and POSIX semaphores in /dev/shm.
    let script = r#"
import multiprocessing
def square(x):
    return x * x
if __name__ == "__main__":
    with multiprocessing.Pool(4) as pool:
        print(sum(pool.map(square, range(1000))))
        print(sorted(set(pool.map(abs, range(-3, 4)))))
"#;
    assert_same(std::path::Path::new("/usr/bin/env"), &["python3", "-c", script], &[]);
}
