//! `sandbox`: the command line. Each subcommand lives in its own module as a thin layer over
//! the library crates; this file parses arguments and maps failures to one clear line and an
//! exit status.

mod cli;
mod run;
mod syscalls_cmd;

use std::process::ExitCode;

use clap::Parser;

/// Exit statuses of the launcher itself, apart from the guest's own (which pass through).
pub mod status {
    /// The command line is wrong (clap uses the same status).
    pub const USAGE: u8 = 2;
    /// The sandbox failed (platform, internal error).
    pub const SANDBOX_FAILED: u8 = 125;
    /// The program exists but cannot be executed (not ELF, wrong architecture, malformed...).
    pub const CANNOT_EXECUTE: u8 = 126;
    /// The program does not exist.
    pub const NOT_FOUND: u8 = 127;
    /// --timeout passed (as timeout(1)).
    pub const TIMED_OUT: u8 = 124;
    /// --memory passed: killed, as by SIGKILL (128+9).
    pub const KILLED: u8 = 137;
}

/// A failure the user sees as one line: `sandbox: <message>`.
#[derive(Debug)]
pub struct Failure {
    /// The exit status.
    pub status: u8,
    /// What went wrong and, where it helps, what to do.
    pub message: String,
}

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let result = match cli.command {
        cli::Command::Run(args) => run::run(args, cli.debug_log.as_deref()),
        cli::Command::Syscalls { format } => syscalls_cmd::syscalls(format),
        cli::Command::Audit { report } => syscalls_cmd::audit(&report),
        cli::Command::Gofer { fd, roots } => run::gofer(fd, &roots),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(f) => {
            eprintln!("sandbox: {}", f.message);
            ExitCode::from(f.status)
        }
    }
}
