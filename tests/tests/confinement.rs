//! The Sentry confines itself: once the guest runs, the sandbox process runs under its own
//! host seccomp filter, and a host observer (strace) sees it make no path-based system call,
//! however many files the guest opens (the Gofer, a separate process, opens them).

use sandbox_tests::{build_guest, on_path, run, sandbox_bin, Link, TempDir};
use std::process::Command;

/// Path-taking syscalls the Sentry must never make after start-up.
const PATH_CALLS: &[&str] = &["open(", "openat(", "openat2(", "stat(", "lstat(", "newfstatat(", "statx(", "access(", "faccessat(", "faccessat2(", "readlink(", "readlinkat(", "execve(", "mkdir(", "unlink(", "rename("];

#[test]
fn the_sentry_opens_no_host_path_after_start_up() {
    if !on_path("strace") {
        eprintln!("strace is not installed: skipping the host-side observation");
        return;
    }
    let prog = build_guest("files", Link::Static);
    let dir = TempDir::new("confine");
    let log = dir.join("strace.txt");
    for platform in ["systrap", "ptrace"] {
        let out = run(Command::new("strace").args(["-f", "-qq", "-o"]).arg(&log).arg(sandbox_bin()).args(["run", "--platform", platform, "--"]).arg(&prog));
        assert_eq!(out.status(), 0, "{}", out.describe());
        let text = std::fs::read_to_string(&log).unwrap();
        // The Gofer is a separate process (it execs `sandbox gofer`): its file calls are its job.
        let gofer_pids: Vec<&str> = text.lines().filter(|l| l.contains("execve(") && l.contains("\"gofer\"")).filter_map(|l| l.split_whitespace().next()).collect();
        let sentry_lines: Vec<&str> = text.lines().filter(|l| !gofer_pids.contains(&l.split_whitespace().next().unwrap_or(""))).collect();
        let start = sentry_lines
            .iter()
            .position(|l| l.contains("seccomp(SECCOMP_SET_MODE_FILTER"))
            .unwrap_or_else(|| panic!("{platform}: the Sentry installed no filter:\n{text}"));
        for line in &sentry_lines[start..] {
            let call = line.split_whitespace().nth(1).unwrap_or("");
            assert!(!PATH_CALLS.iter().any(|p| call.starts_with(p)), "{platform}: the Sentry made a path call after confining itself: {line}");
        }
        // The guest opened, created and removed dozens of files meanwhile.
        assert!(out.stdout_str().contains("rmdir base = 0"), "{}", out.describe());
    }
}

/// The `Seccomp:` line of a host process's status.
fn seccomp_mode(pid: u32) -> Option<String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|l| l.strip_prefix("Seccomp:").map(|v| v.trim().to_string()))
}

/// The host's children of `pid` (all its threads').
fn children_of(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    if let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) {
        for t in tasks.flatten() {
            if let Ok(c) = std::fs::read_to_string(t.path().join("children")) {
                out.extend(c.split_whitespace().filter_map(|p| p.parse::<u32>().ok()));
            }
        }
    }
    out
}

#[test]
fn the_sentry_and_the_gofer_run_under_seccomp_filters() {
    let prog = sandbox_tests::build_guest("idle_sleep", Link::Static);
    let mut child = Command::new(sandbox_bin()).args(["run", "--"]).arg(&prog).arg("1500").stdout(std::process::Stdio::null()).spawn().unwrap();
    let pid = child.id();
    // Wait for the guest to be asleep: the Sentry has confined itself by then.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut seen = (None, None);
    while std::time::Instant::now() < deadline && (seen.0.is_none() || seen.1.is_none()) {
        std::thread::sleep(std::time::Duration::from_millis(100));
        let sentry = seccomp_mode(pid);
        let gofer = children_of(pid).into_iter().find(|c| std::fs::read(format!("/proc/{c}/cmdline")).is_ok_and(|cmd| cmd.windows(6).any(|w| w == b"gofer\0")));
        if sentry.as_deref() == Some("2") {
            seen.0 = sentry;
        }
        if let Some(g) = gofer {
            seen.1 = seccomp_mode(g);
        }
    }
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    assert_eq!(seen.0.as_deref(), Some("2"), "the Sentry's status shows no seccomp filter");
    assert_eq!(seen.1.as_deref(), Some("2"), "the Gofer's status shows no seccomp filter");
}
