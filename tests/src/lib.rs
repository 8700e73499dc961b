//! The integration-test harness of the `sandbox` binary.
//!
//! The tests in `tests/tests/*.rs` drive the built binary from the outside, as a user does; they
//! link nothing of the sandbox itself. This crate gives them:
//!
//! - [`sandbox_bin`]: where the binary is (`SANDBOX_BIN`, else next to the test executable, i.e.
//!   `target/<profile>/sandbox`, else `<workspace>/target/debug/sandbox`). The tests do not build
//!   it: run `cargo build -p runsc` (or `scripts/test.sh`, which builds everything) first.
//! - [`guest`] / [`build_guest`]: a C guest program `tests/guests/NAME.c` compiled with gcc into a
//!   static (`-static`) or static-pie (`-static-pie -fPIE`) binary, built once per process and
//!   shared by every test that asks for the same (name, flags).
//! - [`run`]: a command run to completion with stdin from /dev/null, stdout and stderr captured,
//!   and a time limit ([`timeout`], 60 s unless `SANDBOX_TEST_TIMEOUT_SECS` says otherwise) after
//!   which the child is killed and the test fails, so a hang never blocks CI.
//! - [`compare`] / [`assert_same`]: the same program run natively and under `sandbox run`; the
//!   native run proves the test right, the sandboxed one must be indistinguishable.
//! - [`TempDir`]: scratch directories under one per-process directory in
//!   `std::env::temp_dir()`, removed on drop; directories left by dead test processes are removed
//!   when the next test process starts.
//! - [`elf`]: byte-level edits of a real static binary that make the malformed ELF files the
//!   loader must reject.
//!
//! Nothing here writes outside the temporary directory or changes the host.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Mutex, OnceLock};
use std::time::{Duration, Instant};

pub mod elf;

/// The root of the cargo workspace (the parent of this crate's directory).
pub fn workspace_root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.parent().unwrap_or(here).to_path_buf()
}

/// The directory that holds the C sources of the guest programs.
pub fn guests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("guests")
}

/// The `sandbox` binary under test. Panics, saying how to build it, when it is missing.
pub fn sandbox_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(p) = std::env::var_os("SANDBOX_BIN") {
            let p = PathBuf::from(p);
            assert!(p.is_file(), "SANDBOX_BIN={} is not a file", p.display());
            return p;
        }
        // Test executables live in target/<profile>/deps/; the binary in target/<profile>/.
        let beside = std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent()?.parent().map(|d| d.join("sandbox")));
        let default = workspace_root().join("target/debug/sandbox");
        let mut looked = Vec::new();
        for p in beside.into_iter().chain([default]) {
            if p.is_file() {
                return p;
            }
            looked.push(p.display().to_string());
        }
        panic!(
            "the sandbox binary is missing (looked at {}): run `cargo build -p runsc` first \
             (scripts/test.sh does), or point SANDBOX_BIN at it",
            looked.join(", ")
        )
    })
    .clone()
}

/// How long any one command may run before it is killed and the test fails.
pub fn timeout() -> Duration {
    let secs = std::env::var("SANDBOX_TEST_TIMEOUT_SECS")
        .ok()
        .and_then(|s| s.parse().ok());
    Duration::from_secs(secs.unwrap_or(60))
}

// ---------------------------------------------------------------------------------------------
// Temporary directories

/// This process's scratch directory, `<temp>/sandbox-tests.<pid>`; created on first use, after
/// removing the ones whose process is gone.
pub fn scratch_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let tmp = std::env::temp_dir();
        remove_stale_scratch_dirs(&tmp);
        let dir = tmp.join(format!("sandbox-tests.{}", std::process::id()));
        std::fs::create_dir_all(&dir)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        dir
    })
}

/// Removes `sandbox-tests.<pid>` directories of processes that no longer exist: a test process
/// cannot clean up after itself at exit (statics are never dropped), so the next one does it.
fn remove_stale_scratch_dirs(tmp: &Path) {
    let Ok(entries) = std::fs::read_dir(tmp) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.strip_prefix("sandbox-tests.")) else {
            continue;
        };
        if pid.parse::<u32>().is_ok() && !Path::new("/proc").join(pid).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// A fresh directory inside [`scratch_dir`], removed with everything in it when dropped.
#[derive(Debug)]
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// Makes `<scratch>/<label>.<n>`.
    pub fn new(label: &str) -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = scratch_dir().join(format!("{label}.{n}"));
        std::fs::create_dir_all(&path)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display()));
        TempDir { path }
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A path inside the directory.
    pub fn join(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

// ---------------------------------------------------------------------------------------------
// Guest programs

/// How a guest is linked. Dynamic programs are not supported by the sandbox yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Link {
    /// `-static`: an ET_EXEC at a fixed address.
    Static,
    /// `-static-pie -fPIE`: an ET_DYN without PT_INTERP, relocated by itself at startup.
    StaticPie,
}

impl Link {
    /// The gcc flags of this kind of link.
    pub fn flags(self) -> &'static [&'static str] {
        match self {
            Link::Static => &["-static"],
            Link::StaticPie => &["-static-pie", "-fPIE"],
        }
    }
}

/// Flags every guest is compiled with. Warnings are errors: a guest that is not clean C is a
/// test that may not test what it says.
const CFLAGS: &[&str] = &["-O1", "-Wall", "-Wextra", "-Werror"];

/// `tests/guests/NAME.c`, linked `-static`.
pub fn guest(name: &str) -> PathBuf {
    build_guest(name, Link::Static)
}

/// `tests/guests/NAME.c`, linked as `link` says.
pub fn build_guest(name: &str, link: Link) -> PathBuf {
    build_guest_with(name, link.flags())
}

/// `tests/guests/NAME.c` compiled with gcc and `flags` (on top of [`CFLAGS`]). Built once per
/// process for each (name, flags); later calls return the same file.
pub fn build_guest_with(name: &str, flags: &[&str]) -> PathBuf {
    /// (guest name, gcc flags) -> the built binary.
    type Built = HashMap<(String, Vec<String>), PathBuf>;
    static BUILT: OnceLock<Mutex<Built>> = OnceLock::new();
    let key = (
        name.to_string(),
        flags.iter().map(|f| f.to_string()).collect::<Vec<_>>(),
    );
    // A poisoned lock only means another test panicked; the map itself is always consistent.
    let mut built = BUILT
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(p) = built.get(&key) {
        return p.clone();
    }
    let src = guests_dir().join(format!("{name}.c"));
    assert!(src.is_file(), "no guest source {}", src.display());
    let dir = scratch_dir().join("guests");
    std::fs::create_dir_all(&dir)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    let out = dir.join(format!("{name}.{}", built.len()));
    let mut cmd = Command::new("gcc");
    cmd.args(CFLAGS).args(flags).arg("-o").arg(&out).arg(&src);
    let result = try_run(&mut cmd, timeout());
    match result {
        Ok(o) if o.code == Some(0) => {
            built.insert(key, out.clone());
            out
        }
        Ok(o) => {
            drop(built);
            panic!(
                "gcc failed to build guest {name} with {flags:?}:\n{}",
                o.stderr_str()
            )
        }
        Err(e) => {
            drop(built);
            panic!("cannot build guest {name}: {e} (install gcc and libc6-dev, which has libc.a)")
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Running commands

/// What a finished command did.
#[derive(Clone, Debug)]
pub struct Output {
    /// Everything written to stdout.
    pub stdout: Vec<u8>,
    /// Everything written to stderr.
    pub stderr: Vec<u8>,
    /// The exit code, if it exited.
    pub code: Option<i32>,
    /// The signal that killed it, if one did.
    pub signal: Option<i32>,
    /// Wall time from spawn to exit.
    pub elapsed: Duration,
}

impl Output {
    /// The status as a shell shows it: the exit code, or 128+N for death by signal N.
    pub fn status(&self) -> i32 {
        match (self.code, self.signal) {
            (Some(c), _) => c,
            (None, Some(s)) => 128 + s,
            (None, None) => -1,
        }
    }

    /// stdout as text (invalid UTF-8 replaced).
    pub fn stdout_str(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// stderr as text (invalid UTF-8 replaced).
    pub fn stderr_str(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }

    /// A readable dump for failure messages.
    pub fn describe(&self) -> String {
        let how = match (self.code, self.signal) {
            (Some(c), _) => format!("exit code {c}"),
            (None, Some(s)) => format!("killed by signal {s} (status {})", 128 + s),
            (None, None) => "unknown end".to_string(),
        };
        format!(
            "{how}, {:.1} ms\n  stdout ({} bytes):\n{}\n  stderr ({} bytes):\n{}",
            self.elapsed.as_secs_f64() * 1e3,
            self.stdout.len(),
            indent(&self.stdout_str()),
            self.stderr.len(),
            indent(&self.stderr_str())
        )
    }
}

fn indent(text: &str) -> String {
    if text.is_empty() {
        return "    (empty)".to_string();
    }
    text.lines()
        .map(|l| format!("    | {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Runs `cmd` to completion (stdin /dev/null, stdout and stderr captured) within [`timeout`];
/// panics if it cannot start or runs too long.
pub fn run(cmd: &mut Command) -> Output {
    run_with_timeout(cmd, timeout())
}

/// [`run`] with an explicit time limit.
pub fn run_with_timeout(cmd: &mut Command, limit: Duration) -> Output {
    try_run(cmd, limit).unwrap_or_else(|e| panic!("{e}"))
}

/// [`run`] with `input` fed to stdin (then closed) instead of /dev/null.
pub fn run_with_input(cmd: &mut Command, input: &[u8]) -> Output {
    try_run_with(cmd, Some(input), timeout()).unwrap_or_else(|e| panic!("{e}"))
}

/// [`run_with_timeout`] that returns failures to start or finish as an error message.
pub fn try_run(cmd: &mut Command, limit: Duration) -> Result<Output, String> {
    try_run_with(cmd, None, limit)
}

/// The one runner: stdin gets `input` (or /dev/null when `None`), stdout and stderr are
/// captured, and the child is killed once `limit` has passed.
pub fn try_run_with(
    cmd: &mut Command,
    input: Option<&[u8]>,
    limit: Duration,
) -> Result<Output, String> {
    let what = format!("{cmd:?}");
    let start = Instant::now();
    let mut child = cmd
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {what}: {e}"))?;
    if let (Some(mut stdin), Some(input)) = (child.stdin.take(), input) {
        let input = input.to_vec();
        // A child that never reads its stdin must not block us: write from a thread of its own.
        std::thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
    }
    let (tx, rx) = mpsc::channel();
    for (stream, pipe) in [
        (
            0,
            child
                .stdout
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
        ),
        (
            1,
            child
                .stderr
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
        ),
    ] {
        let tx = tx.clone();
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut buf);
            }
            let _ = tx.send((stream, buf));
        });
    }
    drop(tx);
    let deadline = start + limit;
    let mut nap = Duration::from_micros(200);
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => {
                std::thread::sleep(nap);
                nap = (nap * 2).min(Duration::from_millis(10));
            }
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("timed out after {limit:?}, killed: {what}"));
            }
            Err(e) => return Err(format!("cannot wait for {what}: {e}")),
        }
    };
    let elapsed = start.elapsed();
    // The pipes close when the last process holding them exits. A process left behind (a stub
    // the sandbox forgot) would keep them open: that is a failure too, not a hang.
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let grace = Instant::now() + limit.min(Duration::from_secs(5));
    for _ in 0..2 {
        match rx.recv_timeout(grace.saturating_duration_since(Instant::now())) {
            Ok((0, buf)) => stdout = buf,
            Ok((_, buf)) => stderr = buf,
            Err(_) => {
                return Err(format!(
                    "{what} exited ({status}) but its stdout/stderr stayed open: \
                     a process it started is still running"
                ))
            }
        }
    }
    Ok(Output {
        stdout,
        stderr,
        code: status.code(),
        signal: status.signal(),
        elapsed,
    })
}

// ---------------------------------------------------------------------------------------------
// Native and sandboxed commands

/// `program args...`, run directly on the host.
pub fn native(program: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(program);
    cmd.args(args);
    cmd
}

/// `sandbox ARGS...` (a subcommand other than `run`, e.g. `syscalls`).
pub fn sandbox<I, S>(args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut cmd = Command::new(sandbox_bin());
    cmd.args(args);
    cmd
}

/// `sandbox run OPTIONS... -- program args...`. When `SANDBOX_TEST_PLATFORM` is set (the
/// test command runs the suite once per platform) and OPTIONS name no platform, it adds
/// `--platform $SANDBOX_TEST_PLATFORM`.
pub fn sandbox_run(options: &[&str], program: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(sandbox_bin());
    cmd.arg("run");
    if let Ok(p) = std::env::var("SANDBOX_TEST_PLATFORM") {
        if !options.contains(&"--platform") {
            cmd.args(["--platform", &p]);
        }
    }
    cmd.args(options)
        .arg("--")
        .arg(program)
        .args(args);
    cmd
}

/// A native and a sandboxed run of the same program.
#[derive(Debug)]
pub struct Comparison {
    /// The sandboxed command line, for messages.
    pub command: String,
    /// The run on the host.
    pub native: Output,
    /// The run under `sandbox run`.
    pub sandboxed: Output,
}

impl Comparison {
    /// The names of what differs: "stdout", "stderr", "status".
    pub fn differences(&self) -> Vec<&'static str> {
        let (n, s) = (&self.native, &self.sandboxed);
        let mut d = Vec::new();
        if n.stdout != s.stdout {
            d.push("stdout");
        }
        if n.stderr != s.stderr {
            d.push("stderr");
        }
        if n.status() != s.status() {
            d.push("status");
        }
        d
    }

    /// Both runs, side by side, for a failure message.
    pub fn describe(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "--- command: {}", self.command);
        let _ = writeln!(s, "--- native: {}", self.native.describe());
        let _ = write!(s, "--- sandboxed: {}", self.sandboxed.describe());
        s
    }
}

/// One way to run a guest, natively and sandboxed alike.
#[derive(Clone, Copy, Debug, Default)]
pub struct Invocation<'a> {
    /// Options of `sandbox run` (before the `--`); not used for the native run.
    pub options: &'a [&'a str],
    /// Arguments after the program path.
    pub args: &'a [&'a str],
    /// Environment variables set on top of the test process's own.
    pub envs: &'a [(&'a str, &'a str)],
    /// Bytes for stdin; `None` means /dev/null.
    pub stdin: Option<&'a [u8]>,
}

/// Runs `program` natively and under `sandbox run [options] --` as `how` says, and returns
/// both outputs.
pub fn compare_invocation(program: &Path, how: Invocation<'_>) -> Comparison {
    let mut n = native(program, how.args);
    let mut s = sandbox_run(how.options, program, how.args);
    for (k, v) in how.envs {
        n.env(k, v);
        s.env(k, v);
    }
    let command = format!("{s:?}");
    let native = try_run_with(&mut n, how.stdin, timeout()).unwrap_or_else(|e| panic!("{e}"));
    let sandboxed = try_run_with(&mut s, how.stdin, timeout()).unwrap_or_else(|e| panic!("{e}"));
    Comparison {
        command,
        native,
        sandboxed,
    }
}

/// [`compare_invocation`] with sandbox options, arguments and environment, stdin /dev/null.
pub fn compare_with(
    options: &[&str],
    program: &Path,
    args: &[&str],
    envs: &[(&str, &str)],
) -> Comparison {
    compare_invocation(
        program,
        Invocation {
            options,
            args,
            envs,
            stdin: None,
        },
    )
}

/// [`compare_with`] without sandbox options.
pub fn compare(program: &Path, args: &[&str], envs: &[(&str, &str)]) -> Comparison {
    compare_with(&[], program, args, envs)
}

/// Asserts that the two runs of a [`Comparison`] are indistinguishable; see [`assert_same`].
#[track_caller]
pub fn assert_no_difference(program: &Path, c: &Comparison) {
    let d = c.differences();
    assert!(
        d.is_empty(),
        "native and sandboxed runs of {} differ in {}\n{}",
        program.display(),
        d.join(", "),
        c.describe()
    );
}

/// [`assert_same`] for any [`Invocation`].
#[track_caller]
pub fn assert_same_invocation(program: &Path, how: Invocation<'_>) -> Comparison {
    let c = compare_invocation(program, how);
    assert_no_difference(program, &c);
    c
}

/// Asserts that `program args` behaves the same natively and sandboxed: same stdout, stderr and
/// status (a death by signal N counts as status 128+N on both sides). Prints both on mismatch.
/// Returns the comparison for further checks.
#[track_caller]
pub fn assert_same(program: &Path, args: &[&str], envs: &[(&str, &str)]) -> Comparison {
    assert_same_invocation(
        program,
        Invocation {
            args,
            envs,
            ..Invocation::default()
        },
    )
}

/// Whether `name` is an executable on PATH.
pub fn on_path(name: &str) -> bool {
    std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|d| d.join(name).is_file()))
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_captures_output_and_status() {
        let o = run(Command::new("sh").args(["-c", "echo out; echo err >&2; exit 3"]));
        assert_eq!(o.stdout_str(), "out\n");
        assert_eq!(o.stderr_str(), "err\n");
        assert_eq!((o.code, o.signal, o.status()), (Some(3), None, 3));
    }

    #[test]
    fn run_reports_signals_as_128_plus_n() {
        let o = run(Command::new("sh").args(["-c", "kill -SEGV $$"]));
        assert_eq!((o.code, o.signal, o.status()), (None, Some(11), 139));
    }

    #[test]
    fn run_kills_at_the_time_limit() {
        let start = Instant::now();
        let e = try_run(Command::new("sleep").arg("30"), Duration::from_millis(300)).unwrap_err();
        assert!(e.contains("timed out"), "{e}");
        assert!(start.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn run_fails_when_a_leftover_process_holds_the_pipes() {
        let start = Instant::now();
        let e = try_run(
            Command::new("sh").args(["-c", "sleep 3 & exit 0"]),
            Duration::from_secs(1),
        )
        .unwrap_err();
        assert!(e.contains("still running"), "{e}");
        assert!(start.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn run_feeds_stdin() {
        let o = run_with_input(&mut Command::new("cat"), b"abc\n");
        assert_eq!(o.stdout_str(), "abc\n");
    }

    #[test]
    fn guests_are_built_once_per_flags() {
        let a = guest("true");
        let b = guest("true");
        let pie = build_guest("true", Link::StaticPie);
        assert_eq!(a, b);
        assert_ne!(a, pie);
        assert_eq!(run(&mut native(&a, &[])).status(), 0);
        assert_eq!(run(&mut native(&pie, &[])).status(), 0);
    }

    #[test]
    fn temp_dirs_are_removed_on_drop() {
        let t = TempDir::new("drop");
        let p = t.path().to_path_buf();
        std::fs::write(t.join("f"), b"x").unwrap();
        drop(t);
        assert!(!p.exists());
        assert!(p.starts_with(std::env::temp_dir()));
    }
}
