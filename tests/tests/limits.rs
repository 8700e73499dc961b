//! Containment: --pids, --memory and --timeout stop a guest without harming the host.

use std::path::Path;
use std::time::{Duration, Instant};

use sandbox_tests::{guest, run, run_with_timeout, sandbox_run};

/// Host processes whose environment holds `marker` (the sandbox's processes inherit it).
fn host_processes_marked(marker: &str) -> usize {
    std::fs::read_dir("/proc")
        .map(|d| {
            d.flatten()
                .filter(|e| e.file_name().to_string_lossy().chars().all(|c| c.is_ascii_digit()))
                .filter(|e| std::fs::read(e.path().join("environ")).is_ok_and(|c| String::from_utf8_lossy(&c).contains(marker)))
                .count()
        })
        .unwrap_or(0)
}

#[test]
fn fork_bomb_meets_eagain_under_pids() {
    let prog = guest("limits");
    let o = run(&mut sandbox_run(&["--pids", "64"], &prog, &["forkbomb"]));
    assert_eq!(o.status(), 0, "{}", o.describe());
    // Init and 63 children: the 64th process is refused.
    assert_eq!(o.stdout_str(), "fork failed after 63 children: Resource temporarily unavailable\nall reaped\n", "{}", o.describe());
    // The Sentry is still healthy: the same sandbox binary runs the next guest.
    let again = run(&mut sandbox_run(&["--pids", "2"], &prog, &["forkbomb"]));
    assert_eq!(again.stdout_str(), "fork failed after 1 children: Resource temporarily unavailable\nall reaped\n", "{}", again.describe());
}

#[test]
fn memory_hog_is_killed_with_one_line_report() {
    let prog = guest("limits");
    let marker = format!("SANDBOX_LIMITS_TEST={}", std::process::id());
    let mut cmd = sandbox_run(&["--memory", "256M"], &prog, &["hog"]);
    cmd.env("SANDBOX_LIMITS_TEST", std::process::id().to_string());
    let o = run(&mut cmd);
    assert_eq!(o.status(), 137, "{}", o.describe());
    let err = o.stderr_str();
    assert_eq!(err.lines().count(), 1, "one line: {}", o.describe());
    assert!(err.contains("--memory limit of 256 MiB"), "{}", o.describe());
    assert!(!o.stdout_str().contains("not stopped"), "{}", o.describe());
    // Nothing of the sandbox (Sentry, stubs, Gofer) outlives it.
    let deadline = Instant::now() + Duration::from_secs(5);
    while host_processes_marked(&marker) > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(host_processes_marked(&marker), 0, "sandbox processes left on the host");
}

#[test]
fn timeout_kills_a_long_run() {
    let start = Instant::now();
    let o = run_with_timeout(&mut sandbox_run(&["--timeout", "500ms"], Path::new("/bin/sleep"), &["30"]), Duration::from_secs(20));
    assert_eq!(o.status(), 124, "{}", o.describe());
    assert!(start.elapsed() < Duration::from_secs(10), "took {:?}", start.elapsed());
    assert!(o.stderr_str().contains("--timeout"), "{}", o.describe());
}
