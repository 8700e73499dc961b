//! `sandbox run`: find and validate the program, start a sandbox, pass the exit status back.

use std::ffi::OsString;
use std::io::{ErrorKind, Write};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use platform::ptrace::PtracePlatform;
use platform::systrap::SystrapPlatform;
use platform::{Options, Platform};
use sentry::{Config, Sandbox};

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
    let program = &args.command[0];
    let path = resolve(program)?;
    let file = read_program(&path)?;
    let image = sentry::loader::parse(&file).map_err(|e| fail(CANNOT_EXECUTE, format!("{}: {e}", path.display())))?;
    let exe = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());

    let pin_cpu = args.ptrace_pinning == OnOff::On;
    let kind = args.platform;
    let sandbox = Sandbox::new(args.strace, |mf| {
        let opts = Options { memory_fd: mf.raw_fd(), pin_cpu };
        Ok(match kind {
            PlatformKind::Ptrace => Arc::new(PtracePlatform::new(opts)?) as Arc<dyn Platform>,
            PlatformKind::Systrap => Arc::new(SystrapPlatform::new(opts)?),
            PlatformKind::Auto if seccomp_available() => Arc::new(SystrapPlatform::new(opts)?),
            PlatformKind::Auto => Arc::new(PtracePlatform::new(opts)?),
        })
    })
    .map_err(|e| fail(SANDBOX_FAILED, e.to_string()))?;

    let cfg = Config {
        argv: args.command.iter().map(|a| a.as_bytes().to_vec()).collect(),
        envp: guest_env(&args.env)?,
        exe: exe.into_os_string().into_vec(),
        cwd: args.cwd.as_ref().map(|c| c.as_bytes().to_vec()),
        strace: args.strace,
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
        Err(e) => {
            let hint = match debug_log {
                Some(p) => format!("see the debug log {}", p.display()),
                None => "rerun with --debug-log FILE for details".into(),
            };
            Err(fail(SANDBOX_FAILED, format!("{e} ({hint})")))
        }
    }
}
