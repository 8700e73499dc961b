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
