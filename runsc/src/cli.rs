//! Command-line arguments.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// Run untrusted Linux programs in a userspace-kernel sandbox: every system call the program
/// makes is served by the sandbox's own kernel (the Sentry), never by the host.
#[derive(Parser, Debug)]
#[command(name = "sandbox", version, about)]
pub struct Cli {
    /// Write the Sentry's debug log to this file.
    #[arg(long, global = true, value_name = "PATH")]
    pub debug_log: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run a program in a new sandbox (alias: do).
    #[command(visible_alias = "do")]
    Run(RunArgs),
    /// Print the syscall support matrix.
    Syscalls {
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Render an audit report written by `run --audit` for people.
    Audit {
        /// The report (JSON).
        report: PathBuf,
    },
    /// The Gofer process (started by `run`, not by people).
    #[command(hide = true)]
    Gofer {
        /// The socket to serve.
        #[arg(long)]
        fd: i32,
        /// Roots, in order: PATH:ro or PATH:rw.
        #[arg(long = "root")]
        roots: Vec<String>,
    },
}

/// `sandbox run` options.
#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// How guest code is run: auto picks the best platform that works here.
    #[arg(long, value_enum, default_value_t = PlatformKind::Auto)]
    pub platform: PlatformKind,
    /// Print every system call the guest makes, with decoded arguments, on stderr.
    #[arg(long)]
    pub strace: bool,
    /// Write an audit report (JSON) of the guest's system calls to this file.
    #[arg(long, value_name = "FILE")]
    pub audit: Option<PathBuf>,
    /// Set an environment variable for the program (repeatable); the sandbox's own environment
    /// is passed through otherwise.
    #[arg(long = "env", value_name = "K=V")]
    pub env: Vec<String>,
    /// The host directory that is the sandbox's root (read-only; writes stay in memory).
    #[arg(long, value_name = "DIR", default_value = "/")]
    pub rootfs: PathBuf,
    /// Mount a host directory in the sandbox (repeatable): rw writes through to the host; ro
    /// (the default) keeps writes in memory.
    #[arg(long = "mount", value_name = "SRC:DST[:ro|rw]")]
    pub mounts: Vec<String>,
    /// The program's working directory inside the sandbox (default: the current directory
    /// when the root is the host's, else /).
    #[arg(long, value_name = "DIR")]
    pub cwd: Option<String>,
    /// Keep each ptrace tracer thread on its guest thread's CPU (faster on most machines).
    #[arg(long, value_enum, default_value_t = OnOff::On)]
    pub ptrace_pinning: OnOff,
    /// systrap: rewrite the `mov $nr,%eax; syscall` sites (and the like) a guest traps from
    /// into jumps to the stub's fast path, which needs no signal (see DESIGN.md).
    #[arg(long, value_enum, default_value_t = OnOff::On)]
    pub systrap_patching: OnOff,
    /// Most processes the guest may have at once (zombies included): fork and clone past it
    /// fail with EAGAIN.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub pids: Option<u32>,
    /// Most memory the guest may use (e.g. 256M, 2G, 100000K; bytes without a suffix): past
    /// it the sandbox is killed (status 137), as by an out-of-memory killer.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub memory: Option<u64>,
    /// Longest the guest may run (e.g. 30s, 500ms, 5m; seconds without a suffix): past it
    /// the sandbox is killed (status 124, as timeout(1)).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub timeout: Option<std::time::Duration>,
    /// The program and its arguments.
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true, value_name = "PROGRAM [ARGS]...")]
    pub command: Vec<OsString>,
}

/// Output formats.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Aligned columns for people.
    Table,
    /// JSON for programs.
    Json,
}

/// Platforms.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlatformKind {
    /// The best available: systrap where seccomp traps work, else ptrace.
    Auto,
    /// Seccomp traps (SIGSYS) served through shared memory: the fast one.
    Systrap,
    /// PTRACE_SYSEMU with a stub process per address space: the portable reference.
    Ptrace,
}

/// A switch.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnOff {
    /// Enabled.
    On,
    /// Disabled.
    Off,
}

/// A size: a number with an optional K, M, G or T suffix (powers of 1024; "KiB", "MB"... too).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let n: u64 = t[..digits].parse().map_err(|_| format!("{s:?} is not a size like 256M"))?;
    let shift = match t[digits..].to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        "t" | "tb" | "tib" => 40,
        _ => return Err(format!("{s:?}: the size suffix must be K, M, G or T")),
    };
    n.checked_mul(1 << shift).filter(|&b| b > 0).ok_or_else(|| format!("{s:?} is not a usable size"))
}

/// A duration: a number with an optional ms, s, m or h suffix (seconds without one).
pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let t = s.trim();
    let digits = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let n: f64 = t[..digits].parse().map_err(|_| format!("{s:?} is not a duration like 30s"))?;
    let secs = match &t[digits..] {
        "ms" => n / 1000.0,
        "" | "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(format!("{s:?}: the duration suffix must be ms, s, m or h")),
    };
    std::time::Duration::try_from_secs_f64(secs).ok().filter(|d| !d.is_zero()).ok_or_else(|| format!("{s:?} is not a usable duration"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_durations_parse() {
        assert_eq!(parse_size("256M"), Ok(256 << 20));
        assert_eq!(parse_size("2GiB"), Ok(2 << 30));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert!(parse_size("12X").is_err());
        assert!(parse_size("0").is_err());
        assert!(parse_size("99999999999T").is_err());
        assert_eq!(parse_duration("500ms"), Ok(std::time::Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(std::time::Duration::from_secs(120)));
        assert_eq!(parse_duration("1.5"), Ok(std::time::Duration::from_millis(1500)));
        assert!(parse_duration("-1s").is_err());
        assert!(parse_duration("5 days").is_err());
    }
}
