//! An idle guest costs nothing (issue 5's acceptance: "an idle guest uses < 2% of a CPU").
//!
//! Each test runs `sandbox run` under `idle_rusage`, a small host-side helper (built from
//! `tests/guests/idle_rusage.c`, run natively) that is a child subreaper, reaps every process of
//! the tree and reports `getrusage(RUSAGE_CHILDREN)`: the user and system time of the launcher,
//! the Sentry and every stub together, with microsecond resolution. (std has no getrusage, and
//! the test crate links nothing but serde_json.)
//!
//! - a guest sleeping 3 s in one nanosleep: the user+sys time it adds to the same run without
//!   the wait is < 2% of the wall time it adds;
//! - a guest blocked in read(2) on a silent stdin pipe that the helper closes after 2 s: the same;
//! - the control: a guest computing 300 million multiply-adds (about 400 ms here) shows up as
//!   at least 100 ms of CPU, so the measurement does see the stub, where guest code runs.
//!
//! Start-up is measured apart (the run without the wait), since it is not idleness: with a
//! debug build it costs 30-40 ms of CPU on a 2-vCPU VM (Sentry, Gofer, the first stubs), which
//! alone came near 2% of a 2 s run; the waits themselves cost 0-8 ms.

use std::path::Path;
use std::time::Duration;

use sandbox_tests::{guest, native, run, sandbox_run, Output};

/// What idle_rusage reports.
#[derive(Debug)]
struct Usage {
    wall: Duration,
    user: Duration,
    sys: Duration,
    status: i32,
}

impl Usage {
    fn cpu(&self) -> Duration {
        self.user + self.sys
    }

    fn describe(&self) -> String {
        format!(
            "wall {:.1} ms, user {:.1} ms, sys {:.1} ms ({:.2}% of the wall time), status {}",
            self.wall.as_secs_f64() * 1e3,
            self.user.as_secs_f64() * 1e3,
            self.sys.as_secs_f64() * 1e3,
            100.0 * self.cpu().as_secs_f64() / self.wall.as_secs_f64().max(1e-9),
            self.status
        )
    }
}

/// Parses `idle_rusage: wall_us=W user_us=U sys_us=S status=N` from the helper's stderr.
fn parse_usage(out: &Output) -> Usage {
    let err = out.stderr_str();
    let line = err
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("idle_rusage: "))
        .unwrap_or_else(|| panic!("idle_rusage printed no usage line\n{}", out.describe()));
    let field = |name: &str| -> u64 {
        line.split_whitespace()
            .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in {line:?}\n{}", out.describe()))
    };
    Usage {
        wall: Duration::from_micros(field("wall_us")),
        user: Duration::from_micros(field("user_us")),
        sys: Duration::from_micros(field("sys_us")),
        status: field("status") as i32,
    }
}

/// Runs `sandbox run [--platform $SANDBOX_TEST_PLATFORM] -- program args` under idle_rusage
/// (with `helper_args` before the `--`); returns its output and the usage it measured.
fn measure(helper_args: &[&str], program: &Path, args: &[&str]) -> (Output, Usage) {
    let helper = guest("idle_rusage");
    let sandboxed = sandbox_run(&[], program, args);
    let mut cmd = native(&helper, helper_args);
    cmd.arg("--")
        .arg(sandboxed.get_program())
        .args(sandboxed.get_args());
    let out = run(&mut cmd);
    let usage = parse_usage(&out);
    (out, usage)
}

/// Asserts that the run lasted at least `at_least`, and that the CPU time it used beyond
/// `start` (the same run without the wait) is less than 2% of the wall time it took beyond it.
#[track_caller]
fn assert_idle(out: &Output, usage: &Usage, start: &Usage, at_least: Duration) {
    assert!(
        usage.wall >= at_least,
        "the guest did not wait {at_least:?}: {}\n{}",
        usage.describe(),
        out.describe()
    );
    let cpu = usage.cpu().as_secs_f64() - start.cpu().as_secs_f64();
    let wall = usage.wall.as_secs_f64() - start.wall.as_secs_f64();
    assert!(
        cpu < 0.02 * wall,
        "an idle guest used more than 2% of a CPU: {:.1} ms of CPU over {:.1} ms of waiting (the run: {}; without the wait: {})\n{}",
        cpu * 1e3,
        wall * 1e3,
        usage.describe(),
        start.describe(),
        out.describe()
    );
    eprintln!("idle: {:.1} ms of CPU over {:.1} ms (the run: {}; start-up: {})", cpu * 1e3, wall * 1e3, usage.describe(), start.describe());
}

#[test]
fn sleeping_guest_uses_under_2_percent_cpu() {
    let (out, usage) = measure(&[], &guest("idle_sleep"), &["3000"]);
    assert_eq!(
        (usage.status, out.stdout_str().as_str()),
        (0, "slept 3000 ms: 0\n"),
        "{}",
        out.describe()
    );
    let (_, start) = measure(&[], &guest("idle_sleep"), &["0"]);
    assert_idle(&out, &usage, &start, Duration::from_secs(3));
}

#[test]
fn guest_blocked_on_stdin_uses_under_2_percent_cpu() {
    // The helper keeps the pipe open and silent for 2 s, then writes "bye\n" and closes it: the
    // guest's first read returns those 4 bytes, the second end of file.
    let (out, usage) = measure(&["--stdin-hold", "2000"], &guest("idle_stdin"), &[]);
    assert_eq!(
        (usage.status, out.stdout_str().as_str()),
        (0, "reads=2 bytes=4\n"),
        "{}",
        out.describe()
    );
    let (_, start) = measure(&["--stdin-hold", "0"], &guest("idle_stdin"), &[]);
    assert_idle(&out, &usage, &start, Duration::from_secs(2));
}

#[test]
fn busy_guest_cpu_is_measured() {
    let (out, usage) = measure(&[], &guest("idle_busy"), &["300"]);
    assert_eq!(usage.status, 0, "{}", out.describe());
    assert!(
        out.stdout_str().starts_with("busy for 300 rounds: "),
        "{}",
        out.describe()
    );
    // A fixed amount of work, not of wall time, so that a loaded machine changes nothing.
    assert!(
        usage.cpu() >= Duration::from_millis(100),
        "300 million multiply-adds in the guest should count as CPU time of the tree, or the \
         idle tests measure nothing: {}\n{}",
        usage.describe(),
        out.describe()
    );
}
