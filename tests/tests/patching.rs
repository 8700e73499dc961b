//! Syscall-site patching (systrap): the patching guest (200000 getppid calls from a
//! `mov $nr,%eax; syscall` site and through glibc's syscall(2), other glibc wrappers, threads
//! racing through fresh sites, signals and FPU-using handlers landing on patched calls, a
//! blocking read restarted or interrupted, fork after patching, a guest GS base of its own set
//! by arch_prctl or by wrgsbase, a jump past a site's load, exec after patching) runs natively
//! and sandboxed with patching on and off, the outputs compared. The audit and strace still
//! see every patched call, and the sites are indeed rewritten when patching is on.
//!
//! Under `SANDBOX_TEST_PLATFORM=ptrace` the same comparisons run on ptrace, where the flag
//! changes nothing.

use sandbox_tests::{assert_no_difference, compare_with, run, sandbox_run, TempDir};
use std::path::PathBuf;

fn guest() -> PathBuf {
    sandbox_tests::guest("patching")
}

fn on_systrap() -> bool {
    std::env::var("SANDBOX_TEST_PLATFORM").map_or(true, |p| p != "ptrace")
}

/// Compares `args` natively and sandboxed, with patching on and off.
fn same_both_ways(args: &[&str]) {
    let g = guest();
    for flag in ["on", "off"] {
        let c = compare_with(&["--systrap-patching", flag], &g, args, &[]);
        assert_no_difference(&g, &c);
        assert_eq!(c.native.status(), 0, "{}", c.describe());
    }
}

#[test]
fn many_getppid_calls_match_native() {
    same_both_ways(&["getppid", "200000"]);
}

#[test]
fn other_glibc_wrappers_match_native() {
    same_both_ways(&["mix", "20000"]);
}

#[test]
fn threads_racing_through_fresh_sites_match_native() {
    same_both_ways(&["race"]);
}

#[test]
fn signals_on_patched_calls_match_native() {
    same_both_ways(&["signals"]);
    same_both_ways(&["restart"]);
}

#[test]
fn fork_and_exec_after_patching_match_native() {
    same_both_ways(&["fork"]);
    same_both_ways(&["exec"]);
}

#[test]
fn a_gs_base_of_the_guest_matches_native() {
    same_both_ways(&["gs"]);
    same_both_ways(&["wrgsbase"]);
}

#[test]
fn jumps_past_the_load_match_native() {
    same_both_ways(&["mid"]);
}

#[test]
fn sites_are_rewritten_only_with_patching_on() {
    let g = guest();
    let want_on = if on_systrap() { "patched=1\n" } else { "patched=0\n" };
    let out = run(&mut sandbox_run(&["--systrap-patching", "on"], &g, &["selfcheck"]));
    assert_eq!(out.stdout_str(), want_on, "{}", out.describe());
    let out = run(&mut sandbox_run(&["--systrap-patching", "off"], &g, &["selfcheck"]));
    assert_eq!(out.stdout_str(), "patched=0\n", "{}", out.describe());
}

/// The count of `name` in an audit report.
fn audited(report: &str, name: &str) -> u64 {
    let v: serde_json::Value = serde_json::from_str(report).expect("audit JSON");
    v["syscalls"]
        .as_array()
        .expect("syscalls")
        .iter()
        .find(|s| s["name"] == name)
        .and_then(|s| s["count"].as_u64())
        .unwrap_or(0)
}

#[test]
fn audit_and_strace_see_every_patched_call() {
    let g = guest();
    let dir = TempDir::new("patching-audit");
    for flag in ["on", "off"] {
        let report = dir.join(&format!("audit-{flag}.json"));
        let report_s = report.display().to_string();
        let out = run(&mut sandbox_run(&["--systrap-patching", flag, "--audit", &report_s], &g, &["getppid", "200000"]));
        assert_eq!(out.status(), 0, "{}", out.describe());
        assert_eq!(out.stdout_str(), "getppid calls=400000 bad=0\n");
        let json = std::fs::read_to_string(&report).expect("audit report");
        // The guest's calls and main's own getppid().
        assert_eq!(audited(&json, "getppid"), 400_001, "patching {flag}");
    }
    for flag in ["on", "off"] {
        let out = run(&mut sandbox_run(&["--systrap-patching", flag, "--strace"], &g, &["getppid", "5000"]));
        assert_eq!(out.status(), 0, "{}", out.describe());
        let lines = out.stderr_str().lines().filter(|l| l.contains("getppid(")).count();
        assert_eq!(lines, 10_001, "patching {flag}: {}", out.describe());
    }
}
