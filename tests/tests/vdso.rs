//! The guest vDSO: clock_gettime, gettimeofday, time and getcpu through glibc behave as the
//! host kernel's (compared with native runs, static, static-pie and dynamic, and with the
//! vDSO's system-call fallback forced), they do not trap (counted in the `--audit` report), and
//! a guest cannot change the pages every process of the sandbox shares.

use std::path::Path;

use sandbox_tests::{
    assert_same, build_guest, build_guest_with, guest, run, sandbox_run, Link, Output, TempDir,
};
use serde_json::Value;

/// Lines the guest prints when the vDSO is there and right; the native run shows them too, so
/// a host without a vDSO would fail here rather than compare two empty answers.
const EXPECTED: &[&str] = &[
    "AT_SYSINFO_EHDR set and an ELF image=1",
    "maps: [vdso] at AT_SYSINFO_EHDR r-x=1 [vvar]=1",
    "CLOCK_MONOTONIC: agrees with the system call within 200 us=1",
    "clock_gettime(12345)=-1 errno=EINVAL",
    "nanosleep(10 ms) lasts >= 10 ms=1",
    "clock_nanosleep(TIMER_ABSTIME) ends at or after the deadline=1",
    "pinned: setaffinity=0 getcpu is the one CPU=1 sched_getcpu too=1",
    "exec child: vDSO present=1 clock after the parent's=1",
];

#[track_caller]
fn assert_vdso_guest(program: &Path, args: &[&str], envs: &[(&str, &str)]) {
    let c = assert_same(program, args, envs);
    let out = c.sandboxed.stdout_str();
    for line in EXPECTED {
        assert!(out.contains(line), "missing {line:?}\n{}", c.describe());
    }
    assert!(!out.contains("ok=0") && !out.contains("went back 1"), "{}", c.describe());
}

#[test]
fn clocks_through_the_vdso_match_native() {
    assert_vdso_guest(&guest("vdso"), &[], &[]);
}

#[test]
fn static_pie_and_dynamic_programs_find_the_vdso() {
    assert_vdso_guest(&build_guest("vdso", Link::StaticPie), &["20000"], &[]);
    assert_vdso_guest(&build_guest_with("vdso", &[]), &["20000"], &[]);
}

#[test]
fn the_system_call_fallback_matches_native() {
    // The Sentry reads SANDBOX_VDSO_FALLBACK; the native run ignores it.
    assert_vdso_guest(&guest("vdso"), &["20000"], &[("SANDBOX_VDSO_FALLBACK", "1")]);
}

fn audit_counts(dir: &TempDir, envs: &[(&str, &str)], loops: &str) -> (Output, Value) {
    let report = dir.join(&format!("audit-{loops}.json"));
    let mut cmd = sandbox_run(
        &["--audit", report.to_str().expect("UTF-8 temp path")],
        &guest("vdso"),
        &["loop", loops],
    );
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = run(&mut cmd);
    let text = std::fs::read_to_string(&report)
        .unwrap_or_else(|e| panic!("no audit report ({e})\n{}", out.describe()));
    let audit = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("audit report is not JSON ({e}):\n{text}"));
    (out, audit)
}

fn count(audit: &Value, name: &str) -> u64 {
    audit["syscalls"]
        .as_array()
        .and_then(|all| all.iter().find(|s| s["name"] == name))
        .and_then(|s| s["count"].as_u64())
        .unwrap_or(0)
}

#[test]
fn clock_calls_do_not_trap() {
    let dir = TempDir::new("vdso-audit");
    let (out, audit) = audit_counts(&dir, &[], "100000");
    assert_eq!(
        (out.status(), out.stdout_str().as_str()),
        (0, "loop done=1\n"),
        "{}",
        out.describe()
    );
    for name in ["clock_gettime", "gettimeofday", "time"] {
        let n = count(&audit, name);
        assert!(
            n < 100,
            "{n} of 100000 {name} calls trapped: the vDSO was not used\n{audit:#}"
        );
    }
    // The control: with the fallback forced, every call is a trapped system call, so the
    // audit does count these when they trap.
    let (out, audit) = audit_counts(&dir, &[("SANDBOX_VDSO_FALLBACK", "1")], "2000");
    assert_eq!(out.status(), 0, "{}", out.describe());
    for name in ["clock_gettime", "gettimeofday", "time"] {
        let n = count(&audit, name);
        assert!(n >= 2000, "{n} {name} calls trapped with the fallback forced\n{audit:#}");
    }
}

#[test]
fn guests_cannot_change_what_other_processes_share() {
    // Checked against Linux's answer (without sealed system mappings), not the host's: kernels
    // built with CONFIG_MSEAL_SYSTEM_MAPPINGS refuse all of it with EPERM.
    let out = run(&mut sandbox_run(&[], &guest("vdso"), &["guard"]));
    assert_eq!(
        (out.status(), out.stdout_str().as_str()),
        (
            0,
            "mprotect([vvar], RW)=EACCES\n\
             mprotect([vvar], RX)=EACCES\n\
             madvise([vvar], MADV_REMOVE)=EINVAL\n\
             madvise([vdso], MADV_REMOVE)=EINVAL\n\
             mprotect([vdso], RWX)=ok\n\
             own copy written=1 clock still works=1\n\
             a new process's vDSO is untouched=1\n"
        ),
        "{}",
        out.describe()
    );
}
