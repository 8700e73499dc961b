//! Acceptance tests of the foundation (issue 2): `sandbox run` of static x86-64 programs with the
//! first few dozen syscalls emulated by the Sentry.
//!
//! Covered here, each against the built `sandbox` binary:
//! - (a) hello, static and static-pie: native and sandboxed runs are indistinguishable (argv
//!   with spaces, empty and option-like arguments, an environment variable, stderr, status 7);
//!   the `do` alias and the `--platform`/`--ptrace-pinning` options change nothing visible;
//! - (b) emulation, not pass-through: a host `strace -f` of the sandbox sees none of the guest's
//!   1000 getppid calls nor its uname;
//! - (c) an unimplemented syscall is ENOSYS in the guest and counted in the `--audit` report;
//! - (d) `--strace` decodes arguments (strings, clocks, structs, flags);
//! - (e) `sandbox syscalls --format json|table` covers all 381 x86-64 syscalls;
//! - (f) bad programs (missing, text, 32-bit, truncated or overlapping program headers) get one
//!   `sandbox: ` line on stderr and a nonzero status, never a panic;
//! - (g) bad guest pointers are EFAULT, as natively, and unknown syscall numbers ENOSYS;
//! - (h) exit statuses 0..=255 through each way out, and death by SIGSEGV as 139;
//! - and the rest of the foundation's syscalls (memory, getrandom, clocks, sleeps, ids, signals
//!   masks, ioctl/fstat of stdio, stdin pass-through), each compared with a native run.

use sandbox_tests::{
    assert_no_difference, assert_same, assert_same_invocation, build_guest, compare_with, elf,
    guest, native, on_path, run, sandbox, sandbox_bin, sandbox_run, Comparison, Invocation, Link,
    Output, TempDir,
};
use serde_json::Value;
use std::path::Path;
use std::process::Command;

const HELLO_ARGS: &[&str] = &["one", "two words", "", "--looks-like-an-option", "ünïcødé"];
const HELLO_ENV: &[(&str, &str)] = &[("SANDBOX_TEST_VAR", "a value with spaces = and equals")];

#[track_caller]
fn assert_hello(link: Link) {
    let hello = build_guest("hello", link);
    let c = assert_same(&hello, HELLO_ARGS, HELLO_ENV);
    // The native run shows what the guest prints; make sure it printed what the test is about.
    let out = c.sandboxed.stdout_str();
    assert_eq!(c.sandboxed.status(), 7);
    assert!(
        out.contains("argv[2]=[two words]\n") && out.contains("argv[3]=[]\n"),
        "{out}"
    );
    assert!(
        out.contains("SANDBOX_TEST_VAR=[a value with spaces = and equals]"),
        "{out}"
    );
    assert_eq!(c.sandboxed.stderr_str(), "hello on stderr\n");
}

// (a) -------------------------------------------------------------------------------------------

#[test]
fn hello_static_same_as_native() {
    assert_hello(Link::Static);
}

#[test]
fn hello_static_pie_same_as_native() {
    assert_hello(Link::StaticPie);
}

#[test]
fn do_is_an_alias_of_run() {
    let hello = guest("hello");
    let envs = HELLO_ENV.iter().copied();
    let native = run(native(&hello, HELLO_ARGS).envs(envs.clone()));
    let mut cmd = sandbox(["do", "--"]);
    cmd.arg(&hello).args(HELLO_ARGS).envs(envs);
    let command = format!("{cmd:?}");
    let sandboxed = run(&mut cmd);
    assert_no_difference(
        &hello,
        &Comparison {
            command,
            native,
            sandboxed,
        },
    );
}

#[test]
fn platform_and_pinning_options_change_nothing_visible() {
    let hello = guest("hello");
    for options in [
        &["--platform", "ptrace"][..],
        &["--platform", "systrap"],
        &["--platform", "auto"],
        &["--ptrace-pinning", "off"],
        &["--ptrace-pinning", "on"],
        &["--platform", "ptrace", "--ptrace-pinning", "off"],
    ] {
        let how = Invocation {
            options,
            args: HELLO_ARGS,
            envs: HELLO_ENV,
            stdin: None,
        };
        assert_same_invocation(&hello, how);
    }
}

#[test]
fn debug_log_does_not_disturb_the_guest() {
    let dir = TempDir::new("debug-log");
    let log = dir.join("debug.log");
    let log = log.to_str().expect("UTF-8 temp path");
    let how = Invocation {
        options: &["--debug-log", log],
        args: HELLO_ARGS,
        envs: HELLO_ENV,
        stdin: None,
    };
    assert_same_invocation(&guest("hello"), how);
}

#[test]
fn stdio_passes_through() {
    let input = b"hello\nworld, a longer line that takes several reads\n".repeat(50);
    let how = Invocation {
        stdin: Some(&input),
        ..Invocation::default()
    };
    let c = assert_same_invocation(&guest("stdio"), how);
    assert!(c
        .sandboxed
        .stdout_str()
        .starts_with("<<HELLO\nWORLD, A LONGER"));
    // Empty stdin: the first read is EOF.
    assert_same(&guest("stdio"), &[], &[]);
}

// (b) -------------------------------------------------------------------------------------------

/// Runs `strace -f -qq -e trace=getppid,uname -o FILE [SANDBOX run --] program` and returns
/// the output and the trace.
fn host_strace(sandbox: Option<&Path>, program: &Path) -> (Output, String) {
    let dir = TempDir::new("host-strace");
    let trace = dir.join("trace");
    let mut cmd = Command::new("strace");
    cmd.args(["-f", "-qq", "-e", "trace=getppid,uname", "-o"]);
    cmd.arg(&trace);
    if let Some(bin) = sandbox {
        cmd.arg(bin).args(["run", "--"]);
    }
    cmd.arg(program);
    let out = run(&mut cmd);
    let text = std::fs::read_to_string(&trace).unwrap_or_default();
    (out, text)
}

fn count_calls(trace: &str, name: &str) -> usize {
    let pat = format!("{name}(");
    trace.lines().filter(|l| l.contains(&pat)).count()
}

#[test]
fn guest_syscalls_are_emulated_not_passed_to_the_host() {
    if !on_path("strace") {
        eprintln!("note: strace is not installed; skipping (scripts/test.sh installs it)");
        return;
    }
    let program = guest("getppid_uname");
    // Native: the method sees every call, so an empty trace below means something.
    let (out, trace) = host_strace(None, &program);
    assert_eq!(out.status(), 0, "{}", out.describe());
    assert!(
        count_calls(&trace, "getppid") >= 1000,
        "native trace:\n{trace}"
    );
    assert!(count_calls(&trace, "uname") >= 1, "native trace:\n{trace}");

    let (out, trace) = host_strace(Some(&sandbox_bin()), &program);
    assert_eq!(out.status(), 0, "{}", out.describe());
    assert_eq!(
        out.stdout_str(),
        "getppid calls=1000 stable=1 nonnegative=1\nsysname=Linux machine=x86_64\nnodename=sandbox\n",
        "{}",
        out.describe()
    );
    let (getppid, uname) = (count_calls(&trace, "getppid"), count_calls(&trace, "uname"));
    assert!(
        getppid == 0 && uname == 0,
        "the host saw {getppid} getppid and {uname} uname calls under the sandbox:\n{trace}"
    );
}

// (c) -------------------------------------------------------------------------------------------

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("no audit report at {}: {e}", path.display()));
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("audit report is not JSON ({e}):\n{text}"))
}

const SUPPORT_LEVELS: [&str; 3] = ["full", "partial", "unimplemented"];

#[test]
fn unimplemented_syscall_is_enosys_and_audited() {
    let dir = TempDir::new("audit");
    let report = dir.join("audit.json");
    let report_arg = report.to_str().expect("UTF-8 temp path");
    let out = run(&mut sandbox_run(
        &["--audit", report_arg],
        &guest("enosys"),
        &[],
    ));
    assert_eq!(
        (out.status(), out.stdout_str().as_str()),
        (
            0,
            "name_to_handle_at=-1 errno=ENOSYS\nname_to_handle_at=-1 errno=ENOSYS\n"
        ),
        "{}",
        out.describe()
    );
    let audit = read_json(&report);
    assert_eq!(audit["version"], 1, "{audit:#}");
    let unimplemented = audit["unimplemented"]
        .as_array()
        .unwrap_or_else(|| panic!("{audit:#}"));
    let entry = unimplemented
        .iter()
        .find(|e| e["name"] == "name_to_handle_at")
        .unwrap_or_else(|| panic!("name_to_handle_at missing from unimplemented: {audit:#}"));
    assert_eq!(
        (entry["nr"].as_u64(), entry["count"].as_u64()),
        (Some(303), Some(2)),
        "{entry}"
    );

    let syscalls = audit["syscalls"]
        .as_array()
        .unwrap_or_else(|| panic!("{audit:#}"));
    for s in syscalls {
        assert!(s["nr"].is_u64() && s["name"].is_string(), "{s}");
        assert!(
            s["count"].as_u64().unwrap_or(0) >= 1,
            "only called syscalls appear: {s}"
        );
        assert!(s["errors"].is_object(), "{s}");
        assert!(SUPPORT_LEVELS.iter().any(|l| s["support"] == *l), "{s}");
    }
    let write = syscalls
        .iter()
        .find(|s| s["name"] == "write")
        .unwrap_or_else(|| panic!("{audit:#}"));
    assert_eq!(write["nr"], 1);
    assert!(
        !syscalls.iter().any(|s| s["name"] == "fork"),
        "fork was never called: {audit:#}"
    );
}

#[test]
fn audit_counts_errors_by_errno() {
    let dir = TempDir::new("audit-errors");
    let report = dir.join("audit.json");
    let out = run(&mut sandbox_run(
        &["--audit", report.to_str().expect("UTF-8 temp path")],
        &guest("efault"),
        &[],
    ));
    assert_eq!(out.status(), 0, "{}", out.describe());
    let audit = read_json(&report);
    let syscalls = audit["syscalls"]
        .as_array()
        .unwrap_or_else(|| panic!("{audit:#}"));
    // The guest prints one `name(args)=-1 errno=EFAULT` line per failed call.
    let stdout = out.stdout_str();
    for name in ["uname", "writev", "rt_sigprocmask"] {
        let efaults = stdout
            .lines()
            .filter(|l| l.starts_with(&format!("{name}(")) && l.ends_with("errno=EFAULT"))
            .count();
        let entry = syscalls
            .iter()
            .find(|s| s["name"] == name)
            .unwrap_or_else(|| panic!("{name} missing: {audit:#}"));
        assert_eq!(entry["errors"]["EFAULT"], efaults, "{entry}");
        assert!(entry["count"].as_u64() >= Some(efaults as u64), "{entry}");
    }
}

// (d) -------------------------------------------------------------------------------------------

/// Text that the strace of `strace_demo` must contain, as the real strace prints it.
const STRACE_DEMO_TEXT: &[&str] = &[
    r#"write(1, "strace demo\n", 12)"#,
    "clock_gettime(CLOCK_MONOTONIC, ",
    r#"uname({sysname="Linux""#,
    "PROT_READ|PROT_WRITE",
    "MAP_PRIVATE|MAP_ANONYMOUS",
    r#""/nonexistent""#,
    "O_RDONLY|O_CLOEXEC",
];

fn missing_text<'a>(text: &str, wanted: &[&'a str]) -> Vec<&'a str> {
    wanted
        .iter()
        .copied()
        .filter(|w| !text.contains(w))
        .collect()
}

#[test]
fn strace_option_decodes_arguments() {
    let demo = guest("strace_demo");
    // Native side: the host's strace prints all of it, so the expectations are right.
    if on_path("strace") {
        let out = run(Command::new("strace")
            .args(["-qq", "-e", "trace=write,clock_gettime,uname,mmap,openat"])
            .arg(&demo));
        let missing = missing_text(&out.stderr_str(), STRACE_DEMO_TEXT);
        assert!(
            missing.is_empty(),
            "host strace lacks {missing:?}:\n{}",
            out.stderr_str()
        );
    }
    let out = run(&mut sandbox_run(&["--strace"], &demo, &[]));
    assert_eq!(
        (out.status(), out.stdout_str().as_str()),
        (0, "strace demo\n"),
        "{}",
        out.describe()
    );
    let err = out.stderr_str();
    let missing = missing_text(&err, STRACE_DEMO_TEXT);
    assert!(
        missing.is_empty(),
        "--strace output lacks {missing:?}:\n{err}"
    );
    // One call per line, `[tid ]name(args) = result`; failures as `= -1 ENAME (message)`.
    for line in err.lines().filter(|l| !l.is_empty()) {
        assert!(
            split_strace_line(line).is_some(),
            "not a strace line: {line:?}\n{err}"
        );
    }
    let result_of = |needle: &str| {
        let line = err.lines().find(|l| l.contains(needle)).unwrap_or_default();
        split_strace_line(line).map_or("", |(_, _, result)| result)
    };
    assert_eq!(result_of("strace demo"), "12", "{err}");
    let open = result_of("\"/nonexistent\"");
    assert!(
        open.starts_with("-1 E") && open.ends_with(')') && open.contains(" ("),
        "an error result is `-1 ENAME (message)`, not {open:?}"
    );
    // The message is Linux's strerror text, as the host's strace prints it.
    for (errno, message) in [
        ("ENOSYS", "Function not implemented"),
        ("ENOENT", "No such file or directory"),
    ] {
        if open.starts_with(&format!("-1 {errno} ")) {
            let want = format!("-1 {errno} ({message})");
            assert_eq!(open, want, "the message is strerror({errno}):\n{err}");
        }
    }
}

/// `[tid ]name(args) = result` -> (name, args, result); the host's strace pads before the `=`,
/// which is tolerated.
fn split_strace_line(line: &str) -> Option<(&str, &str, &str)> {
    let call = match line.split_once(' ') {
        Some((tid, rest)) if tid.bytes().all(|b| b.is_ascii_digit()) => rest,
        _ => line,
    };
    let (call, result) = call.rsplit_once(" = ")?;
    let (name, args) = call.trim_end().strip_suffix(')')?.split_once('(')?;
    let name_ok = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    name_ok.then_some((name, args, result))
}

// (e) -------------------------------------------------------------------------------------------

#[test]
fn syscalls_json_lists_every_x86_64_syscall() {
    let out = run(&mut sandbox(["syscalls", "--format", "json"]));
    assert_eq!(out.status(), 0, "{}", out.describe());
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", out.describe()));
    let list = v["syscalls"]
        .as_array()
        .unwrap_or_else(|| panic!("no \"syscalls\" array: {v:#}"));
    assert_eq!(list.len(), 381);
    let mut nrs = Vec::new();
    let mut names = std::collections::HashMap::new();
    for s in list {
        let nr = s["nr"].as_u64().unwrap_or_else(|| panic!("no nr: {s}"));
        let name = s["name"].as_str().unwrap_or_else(|| panic!("no name: {s}"));
        assert!(
            SUPPORT_LEVELS.iter().any(|l| s["support"] == *l),
            "bad support: {s}"
        );
        assert!(s["family"].is_string(), "no family: {s}");
        assert!(
            names.insert(name.to_string(), nr).is_none(),
            "duplicate name {name}"
        );
        nrs.push(nr);
    }
    nrs.sort_unstable();
    let expected: Vec<u64> = (0..=334).chain(424..=469).collect();
    assert_eq!(
        nrs, expected,
        "numbers are not exactly 0..=334 and 424..=469"
    );
    for (name, nr) in [
        ("read", 0),
        ("write", 1),
        ("name_to_handle_at", 303),
        ("io_uring_setup", 425),
    ] {
        assert_eq!(names.get(name), Some(&nr), "{name}");
    }
    // What the foundation implements is not "unimplemented".
    for s in list.iter().filter(|s| {
        ["read", "write", "exit_group", "getpid", "uname"]
            .contains(&s["name"].as_str().unwrap_or(""))
    }) {
        assert_ne!(s["support"], "unimplemented", "{s}");
    }
}

#[test]
fn syscalls_table_is_printed_for_people() {
    let out = run(&mut sandbox(["syscalls", "--format", "table"]));
    assert_eq!(out.status(), 0, "{}", out.describe());
    let text = out.stdout_str();
    assert!(
        text.lines().count() >= 381,
        "fewer lines than syscalls:\n{text}"
    );
    for name in ["read", "write", "name_to_handle_at", "io_uring_setup"] {
        assert!(
            text.lines()
                .any(|l| l.split_whitespace().any(|w| w == name)),
            "{name} missing:\n{text}"
        );
    }
}

// (f) -------------------------------------------------------------------------------------------

/// One clear line on stderr, a nonzero status that is neither a Rust panic (101) nor a signal.
#[track_caller]
fn assert_rejected(program: &Path, what: &str) -> String {
    let out = run(&mut sandbox_run(&[], program, &[]));
    let err = out.stderr_str();
    let ctx = format!("{what}: {}", out.describe());
    assert!(out.signal.is_none(), "died of a signal on {ctx}");
    assert!(
        !matches!(out.code, Some(0) | Some(101) | None),
        "bad status on {ctx}"
    );
    assert!(!err.contains("panicked"), "panicked on {ctx}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "not exactly one line on stderr on {ctx}");
    assert!(
        lines[0].starts_with("sandbox: ") && lines[0].len() > "sandbox: ".len() + 5,
        "{ctx}"
    );
    lines[0].to_string()
}

fn write_exe(dir: &TempDir, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let p = dir.join(name);
    std::fs::write(&p, bytes).expect("write temp file");
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    p
}

fn static_binary() -> Vec<u8> {
    std::fs::read(guest("true")).expect("read guest")
}

#[test]
fn rejects_a_missing_program() {
    let line = assert_rejected(Path::new("/nonexistent"), "missing program");
    assert!(
        line.contains("/nonexistent"),
        "the message names the path: {line}"
    );
}

#[test]
fn rejects_a_text_file() {
    let dir = TempDir::new("bad-text");
    let p = write_exe(&dir, "notes.txt", b"this is a text file, not a program\n");
    assert_rejected(&p, "text file");
}

#[test]
fn rejects_a_32_bit_elf() {
    let dir = TempDir::new("bad-i386");
    // A real i386 program (the elf module's unit test runs it natively).
    let p = write_exe(&dir, "i386", &elf::i386_exit(0));
    assert_rejected(&p, "32-bit ELF");
}

#[test]
fn rejects_a_truncated_program_header_table() {
    let dir = TempDir::new("bad-phdrs");
    let p = write_exe(&dir, "truncated", &elf::truncate_phdrs(&static_binary()));
    assert_rejected(&p, "file cut inside the program header table");
    let p = write_exe(&dir, "past-eof", &elf::phdrs_past_eof(&static_binary()));
    assert_rejected(&p, "program header table past the end of the file");
}

#[test]
fn rejects_overlapping_load_segments() {
    let dir = TempDir::new("bad-overlap");
    let p = write_exe(&dir, "overlap", &elf::overlap_loads(&static_binary()));
    assert_rejected(&p, "overlapping PT_LOAD segments");
}

// (g) -------------------------------------------------------------------------------------------

#[test]
fn bad_pointers_are_efault_as_natively() {
    let c = assert_same(&guest("efault"), &[], &[]);
    let out = c.sandboxed.stdout_str();
    assert!(
        out.contains("uname(NULL)=-1 errno=EFAULT") && out.ends_with("still running\n"),
        "{out}"
    );
}

/// Namespaces, and a process's CLONE_PARENT, CLONE_FS and CLONE_FILES, are refused (ENOSYS)
/// and reported, not ignored: a child made without them would not be what the guest asked for.
#[test]
fn clone_flags_not_modelled_are_enosys_and_audited() {
    let dir = TempDir::new("audit-clone");
    let report = dir.join("audit.json");
    let report_arg = report.to_str().expect("UTF-8 temp path");
    let out = run(&mut sandbox_run(&["--audit", report_arg], &guest("nsclone"), &[]));
    let names = ["NEWNS", "NEWCGROUP", "NEWUTS", "NEWIPC", "NEWUSER", "NEWPID", "NEWNET", "PARENT", "FS", "FILES"];
    let mut want: String = names.iter().map(|n| format!("CLONE_{n}: ENOSYS\n")).collect();
    want.push_str("clone3 CLONE_NEWPID: ENOSYS\nplain fork: made\n");
    assert_eq!((out.status(), out.stdout_str()), (0, want), "{}", out.describe());
    let audit = read_json(&report);
    let commands = audit["unsupported_commands"].as_array().unwrap_or_else(|| panic!("{audit:#}"));
    let clone_flags: u64 = commands.iter().filter(|c| c["syscall"] == "clone flags").filter_map(|c| c["count"].as_u64()).sum();
    assert_eq!(clone_flags, 11, "{audit:#}");
}

#[test]
fn unknown_syscall_numbers_are_enosys_as_natively() {
    let c = assert_same(&guest("unknown_nr"), &[], &[]);
    assert!(
        c.native
            .stdout_str()
            .contains("syscall(-1)=-1 errno=ENOSYS"),
        "{}",
        c.describe()
    );
}

// (h) -------------------------------------------------------------------------------------------

#[test]
fn exit_statuses_pass_through() {
    let program = guest("exit_status");
    for status in ["0", "1", "2", "42", "127", "128", "200", "255"] {
        let c = assert_same(&program, &[status, "exit_group"], &[]);
        assert_eq!(c.sandboxed.status().to_string(), status);
    }
    for how in ["exit", "return"] {
        for status in ["0", "3", "255"] {
            assert_same(&program, &[status, how], &[]);
        }
    }
    // Statuses wrap modulo 256, as natively.
    let c = assert_same(&program, &["256", "exit_group"], &[]);
    assert_eq!(c.sandboxed.status(), 0);
}

#[test]
fn sigsegv_is_status_139() {
    let program = guest("segv");
    for how in ["null", "readonly", "unmapped"] {
        let c = assert_same(&program, &[how], &[]);
        assert_eq!(c.native.status(), 139, "{}", c.describe());
    }
}

// The other foundation syscalls -----------------------------------------------------------------

#[test]
fn memory_same_as_native() {
    assert_same(&guest("memory"), &[], &[]);
    assert_same(&build_guest("memory", Link::StaticPie), &[], &[]);
}

#[test]
fn getrandom_same_as_native() {
    assert_same(&guest("getrandom"), &[], &[]);
}

#[test]
fn clocks_same_as_native() {
    assert_same(&guest("time"), &[], &[]);
}

#[test]
fn sleeps_same_as_native() {
    assert_same(&guest("sleep"), &[], &[]);
}

#[test]
fn small_syscalls_same_as_native() {
    assert_same(&guest("misc"), &[], &[]);
}

#[test]
fn uname_is_fixed() {
    let program = guest("getppid_uname");
    let out = run(&mut sandbox_run(&[], &program, &[]));
    assert_eq!(out.status(), 0, "{}", out.describe());
    assert!(
        out.stdout_str()
            .ends_with("sysname=Linux machine=x86_64\nnodename=sandbox\n"),
        "{}",
        out.describe()
    );
    // Natively the same program reports the host: only the nodename line may differ.
    let n = run(&mut native(&program, &[]));
    assert!(
        n.stdout_str().contains("sysname=Linux machine=x86_64\n"),
        "{}",
        n.describe()
    );
}

#[test]
fn strace_does_not_change_what_the_guest_sees() {
    // --strace writes to stderr; stdout and status stay the native ones.
    let program = guest("misc");
    let c = compare_with(&["--strace"], &program, &[], &[]);
    assert_eq!(
        (&c.native.stdout, c.native.status()),
        (&c.sandboxed.stdout, c.sandboxed.status()),
        "{}",
        c.describe()
    );
}

#[test]
fn abort_and_raise_end_the_guest_with_the_signal() {
    let prog = build_guest("raise", Link::Static);
    let c = assert_same(&prog, &[], &[]);
    assert_eq!(c.native.status(), 134);
    let c = assert_same(&prog, &["term"], &[]);
    assert_eq!(c.native.status(), 143);
}
