//! An idle guest costs nothing (issue 5's acceptance: "an idle guest uses < 2% of a CPU").
//!
//! Each test runs `sandbox run` under `idle_rusage`, a small host-side helper (built from
//! `tests/guests/idle_rusage.c`, run natively) that is a child subreaper, reaps every process of
//! the tree and reports `getrusage(RUSAGE_CHILDREN)`: the user and system time of the launcher,
//! the Sentry and every stub together, with microsecond resolution. (std has no getrusage, and
//! the test crate links nothing but serde_json.)
//!
//! - a guest sleeping 3 s in one nanosleep: user+sys < 2% of the wall time;
//! - a guest blocked in read(2) on a silent stdin pipe that the helper closes after 2 s: the same;
//! - the control: a guest computing 300 million multiply-adds (about 400 ms here) shows up as
//!   at least 100 ms of CPU, so the measurement does see the stub, where guest code runs.
//!
//! The limit holds for the whole run, start-up included: with a debug build, about 10-15 ms of
//! CPU in all for the 3 s sleep (0.4%) and for the 2 s read (0.6%), on either platform, on a
//! 2-vCPU VM when this was written.

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

/// Asserts that the run used less than 2% of its wall time in CPU, and lasted at least `at_least`.
#[track_caller]
fn assert_idle(out: &Output, usage: &Usage, at_least: Duration) {
    assert!(
        usage.wall >= at_least,
        "the guest did not wait {at_least:?}: {}\n{}",
        usage.describe(),
        out.describe()
    );
    assert!(
        usage.cpu().as_secs_f64() < 0.02 * usage.wall.as_secs_f64(),
        "an idle guest used more than 2% of a CPU: {}\n{}",
        usage.describe(),
        out.describe()
    );
    eprintln!("idle: {}", usage.describe());
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
    assert_idle(&out, &usage, Duration::from_secs(3));
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
    assert_idle(&out, &usage, Duration::from_secs(2));
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
