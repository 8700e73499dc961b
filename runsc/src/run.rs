//! `sandbox run`: find and validate the program, start a sandbox, pass the exit status back.

use std::ffi::OsString;
use std::io::{ErrorKind, Write};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::fd::AsRawFd;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use platform::ptrace::PtracePlatform;
use platform::systrap::SystrapPlatform;
use platform::{Options, Platform};
use sentry::{Breach, Config, Limits, Sandbox};

use crate::cli::{OnOff, PlatformKind, RunArgs};
use crate::status::{CANNOT_EXECUTE, NOT_FOUND, SANDBOX_FAILED};
use crate::Failure;

fn fail(status: u8, message: impl Into<String>) -> Failure {
    Failure { status, message: message.into() }
}

/// Finds PROGRAM as a shell would: a name with a slash is a path, otherwise PATH is searched.
fn resolve(program: &OsString) -> Result<PathBuf, Failure> {
    let p = Path::new(program);
    if program.as_bytes().contains(&b'/') {
        return Ok(p.to_path_buf());
    }
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".into());
    std::env::split_paths(&path)
        .map(|dir| dir.join(p))
        .find(|c| c.is_file())
        .ok_or_else(|| fail(NOT_FOUND, format!("{}: command not found in PATH", p.display())))
}

/// Reads the executable, with Linux's execve checks in one clear line each.
fn read_program(path: &Path) -> Result<Vec<u8>, Failure> {
    let shown = path.display();
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        ErrorKind::NotFound => fail(NOT_FOUND, format!("{shown}: no such file or directory")),
        _ => fail(CANNOT_EXECUTE, format!("{shown}: {e}")),
    })?;
    if meta.is_dir() {
        return Err(fail(CANNOT_EXECUTE, format!("{shown}: is a directory")));
    }
    if meta.permissions().mode() & 0o111 == 0 {
        return Err(fail(CANNOT_EXECUTE, format!("{shown}: permission denied (not executable)")));
    }
    std::fs::read(path).map_err(|e| fail(CANNOT_EXECUTE, format!("{shown}: cannot read it: {e}")))
}

/// The program to run: the executable's path, its bytes, and the guest's argv.
type Program = (PathBuf, Vec<u8>, Vec<Vec<u8>>);

/// Resolves and reads the program, following `#!` lines as execve does (at most four
/// interpreters deep).
fn load_program(command: &[OsString]) -> Result<Program, Failure> {
    let mut path = resolve(&command[0])?;
    let mut argv: Vec<Vec<u8>> = command.iter().map(|a| a.as_bytes().to_vec()).collect();
    for _ in 0..=4 {
        let file = read_program(&path)?;
        let Some(rest) = file.strip_prefix(b"#!") else { return Ok((path, file, argv)) };
        // The line, up to Linux's 256-byte buffer: the interpreter, then at most one argument.
        let line = &rest[..rest.len().min(254)];
        let line = &line[..line.iter().position(|&b| b == b'\n').unwrap_or(line.len())];
        let line = String::from_utf8_lossy(line);
        let line = line.trim_matches([' ', '\t']);
        let (interp, arg) = match line.split_once([' ', '\t']) {
            Some((i, a)) => (i, Some(a.trim_matches([' ', '\t']))),
            None => (line, None),
        };
        if interp.is_empty() {
            return Err(fail(CANNOT_EXECUTE, format!("{}: the #! line names no interpreter", path.display())));
        }
        let mut next = vec![interp.as_bytes().to_vec()];
        next.extend(arg.map(|a| a.as_bytes().to_vec()));
        next.push(path.as_os_str().as_bytes().to_vec());
        next.extend(argv.drain(1..));
        argv = next;
        path = PathBuf::from(interp);
    }
    Err(fail(CANNOT_EXECUTE, format!("{}: too many levels of #! interpreters", command[0].to_string_lossy())))
}

/// `--mount SRC:DST[:ro|rw]`: (host source, sandbox path, read-only).
fn parse_mount(spec: &str) -> Result<(PathBuf, Vec<u8>, bool), Failure> {
    let bad = |why: &str| fail(crate::status::USAGE, format!("--mount {spec}: {why} (expected SRC:DST[:ro|rw])"));
    let mut parts: Vec<&str> = spec.split(':').collect();
    let read_only = match parts.last() {
        Some(&"ro") if parts.len() == 3 => true,
        Some(&"rw") if parts.len() == 3 => false,
        _ if parts.len() == 2 => true,
        _ => return Err(bad("wrong number of fields")),
    };
    if parts.len() == 3 {
        parts.pop();
    }
    let (src, dst) = (parts[0], parts[1]);
    if src.is_empty() || !dst.starts_with('/') {
        return Err(bad("the source must be given and the destination must be absolute"));
    }
    let src = std::fs::canonicalize(src).map_err(|e| bad(&format!("the source: {e}")))?;
    if !src.is_dir() {
        return Err(bad("the source is not a directory"));
    }
    Ok((src, dst.as_bytes().to_vec(), read_only))
}

/// Starts the Gofer process over the root and the mounts; returns the sandbox's file setup and
/// the default working directory.
fn start_gofer(args: &RunArgs) -> Result<(sentry::Files, Option<Vec<u8>>), Failure> {
    let rootfs = std::fs::canonicalize(&args.rootfs).map_err(|e| fail(crate::status::USAGE, format!("--rootfs {}: {e}", args.rootfs.display())))?;
    if !rootfs.is_dir() {
        return Err(fail(crate::status::USAGE, format!("--rootfs {}: not a directory", rootfs.display())));
    }
    let mounts = args.mounts.iter().map(|m| parse_mount(m)).collect::<Result<Vec<_>, _>>()?;
    let (mine, theirs) = gofer::socketpair().map_err(|e| fail(SANDBOX_FAILED, format!("cannot create the Gofer's socket: {e}")))?;
    let exe = std::env::current_exe().map_err(|e| fail(SANDBOX_FAILED, format!("cannot find the sandbox binary to start the Gofer: {e}")))?;
    let mut cmd = std::process::Command::new(exe);
    cmd.arg("gofer").arg("--fd").arg("3").arg("--root").arg(format!("{}:ro", rootfs.display()));
    for (src, _, ro) in &mounts {
        cmd.arg("--root").arg(format!("{}:{}", src.display(), if *ro { "ro" } else { "rw" }));
    }
    cmd.stdin(std::process::Stdio::null());
    let child_fd = theirs.as_raw_fd();
    // SAFETY: between fork and exec the closure makes two async-signal-safe calls only.
    unsafe {
        cmd.pre_exec(move || {
            // The Gofer dies with the sandbox, and serves on fd 3.
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            if libc::dup2(child_fd, 3) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    cmd.spawn().map_err(|e| fail(SANDBOX_FAILED, format!("cannot start the Gofer: {e}")))?;
    drop(theirs);
    let files = sentry::Files { gofer: Some(Arc::new(gofer::Client::new(mine))), mounts: mounts.iter().map(|(_, dst, ro)| (dst.clone(), *ro)).collect() };
    // The host's working directory, when the sandbox's root is the host's own.
    let cwd = if rootfs == Path::new("/") { std::env::current_dir().ok().map(|d| d.into_os_string().into_vec()) } else { None };
    Ok((files, cwd))
}

/// `sandbox gofer`: the Gofer process's entry point.
pub fn gofer(fd: i32, roots: &[String]) -> Result<u8, Failure> {
    let roots = roots
        .iter()
        .map(|r| r.parse::<gofer::Root>().map_err(|e| fail(crate::status::USAGE, format!("--root {r}: {}", e.0))))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(gofer::gofer_main(fd, roots) as u8)
}

/// The guest's environment: the sandbox's own, with each --env K=V set on top.
fn guest_env(overrides: &[String]) -> Result<Vec<Vec<u8>>, Failure> {
    let mut env: Vec<(Vec<u8>, Vec<u8>)> = std::env::vars_os().map(|(k, v)| (k.into_vec(), v.into_vec())).collect();
    for kv in overrides {
        let Some((k, v)) = kv.split_once('=') else {
            return Err(fail(crate::status::USAGE, format!("--env {kv}: expected KEY=VALUE")));
        };
        if k.is_empty() {
            return Err(fail(crate::status::USAGE, format!("--env {kv}: the name is empty")));
        }
        env.retain(|(ek, _)| ek != k.as_bytes());
        env.push((k.as_bytes().to_vec(), v.as_bytes().to_vec()));
    }
    Ok(env.into_iter().map(|(k, v)| [k, b"=".to_vec(), v].concat()).collect())
}

/// Whether this kernel has seccomp filters (systrap needs them); ptrace does without.
fn seccomp_available() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|s| s.lines().any(|l| l.starts_with("Seccomp_filters:")))
}

/// Sends tracing output to the debug log, if one was asked for.
fn init_debug_log(path: Option<&Path>) -> Result<(), Failure> {
    let Some(path) = path else { return Ok(()) };
    let file = std::fs::File::create(path).map_err(|e| fail(SANDBOX_FAILED, format!("cannot create the debug log {}: {e}", path.display())))?;
    tracing_subscriber::fmt()
        .with_writer(std::sync::Mutex::new(file))
        .with_ansi(false)
        .with_max_level(tracing::Level::DEBUG)
        .init();
    Ok(())
}

/// Runs the command; Ok carries the guest's exit status (128+N for signal N).
pub fn run(args: RunArgs, debug_log: Option<&Path>) -> Result<u8, Failure> {
    init_debug_log(debug_log)?;
    let (path, file, argv) = load_program(&args.command)?;
    let image = sentry::loader::parse(&file).map_err(|e| fail(CANNOT_EXECUTE, format!("{}: {e}", path.display())))?;
    let exe = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());

    let (files, default_cwd) = start_gofer(&args)?;
    let pin_cpu = args.ptrace_pinning == OnOff::On;
    let patching = args.systrap_patching == OnOff::On;
    let kind = args.platform;
    let sandbox = Sandbox::new(args.strace, files, |mf| {
        let opts = Options { memory_fd: mf.raw_fd(), pin_cpu, patching };
        Ok(match kind {
            PlatformKind::Ptrace => Arc::new(PtracePlatform::new(opts)?) as Arc<dyn Platform>,
            PlatformKind::Systrap => Arc::new(SystrapPlatform::new(opts)?),
            PlatformKind::Auto if seccomp_available() => Arc::new(SystrapPlatform::new(opts)?),
            PlatformKind::Auto => Arc::new(PtracePlatform::new(opts)?),
        })
    })
    .map_err(|e| fail(SANDBOX_FAILED, e.to_string()))?;

    let cfg = Config {
        argv,
        envp: guest_env(&args.env)?,
        exe: exe.into_os_string().into_vec(),
        cwd: args.cwd.as_ref().map(|c| c.as_bytes().to_vec()).or(default_cwd),
        strace: args.strace,
        limits: Limits { pids: args.pids.map(|n| n as usize), memory: args.memory, timeout: args.timeout },
    };
    // Host files are opened before the sandbox runs: from then on the Sentry's own seccomp
    // filter refuses every path-based call.
    let audit_cant = |e: std::io::Error, p: &Path| fail(SANDBOX_FAILED, format!("cannot write the audit report {}: {e}", p.display()));
    let mut audit_file = match &args.audit {
        Some(p) => Some((std::fs::File::create(p).map_err(|e| audit_cant(e, p))?, p)),
        None => None,
    };
    let outcome = sandbox.run(cfg, image, file);
    let code = outcome.as_ref().ok().map(|o| o.status.code());
    if let Some((f, p)) = &mut audit_file {
        let argv = args.command.iter().map(|a| a.to_string_lossy().into_owned()).collect();
        let report = sandbox.audit(argv, code);
        f.write_all((report.to_json() + "\n").as_bytes()).map_err(|e| audit_cant(e, p))?;
    }
    match outcome {
        Ok(o) => Ok(o.status.code() as u8),
        Err(e @ sentry::SentryError::Cwd(..)) => Err(fail(crate::status::USAGE, e.to_string())),
        Err(sentry::SentryError::Limit(b)) => {
            let status = match b {
                Breach::Memory { .. } => crate::status::KILLED,
                Breach::Timeout(_) => crate::status::TIMED_OUT,
            };
            Err(fail(status, b.to_string()))
        }
        Err(e) => {
            let hint = match debug_log {
                Some(p) => format!("see the debug log {}", p.display()),
                None => "rerun with --debug-log FILE for details".into(),
            };
            Err(fail(SANDBOX_FAILED, format!("{e} ({hint})")))
        }
    }
}
