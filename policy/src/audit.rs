//! The audit report: what a guest asked of the kernel, per system call.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

/// The report version this code writes and reads.
pub const REPORT_VERSION: u32 = 1;

/// A whole run's audit.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditReport {
    /// Format version ([`REPORT_VERSION`]).
    pub version: u32,
    /// The guest's argv.
    pub program: Vec<String>,
    /// The platform that ran it.
    pub platform: String,
    /// The exit status the sandbox returned (128+N for a fatal signal N), if the run ended.
    pub exit_status: Option<i32>,
    /// Every syscall the guest made at least once, by number.
    pub syscalls: Vec<SyscallRecord>,
    /// Syscalls the Sentry does not implement that the guest tried: each got ENOSYS.
    pub unimplemented: Vec<Unimplemented>,
    /// Commands of multiplexing calls (ioctl, fcntl, prctl...) that are not supported.
    pub unsupported_commands: Vec<UnsupportedCommand>,
}

/// Counts for one syscall.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyscallRecord {
    /// x86-64 number.
    pub nr: u64,
    /// Name ("syscall_N" when the number is unknown).
    pub name: String,
    /// Family (file, process, memory...).
    pub family: String,
    /// The Sentry's support: "full", "partial" or "unimplemented".
    pub support: String,
    /// Calls made.
    pub count: u64,
    /// Failed calls by errno name.
    pub errors: BTreeMap<String, u64>,
}

/// An unimplemented syscall the guest tried.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unimplemented {
    /// x86-64 number.
    pub nr: u64,
    /// Name.
    pub name: String,
    /// Attempts.
    pub count: u64,
}

/// An unsupported command of a multiplexing syscall.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnsupportedCommand {
    /// The syscall ("ioctl").
    pub syscall: String,
    /// The command number, in hex.
    pub command: String,
    /// Attempts.
    pub count: u64,
}

impl AuditReport {
    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Parses a report, checking its version.
    pub fn from_json(s: &str) -> Result<AuditReport, String> {
        let r: AuditReport = serde_json::from_str(s).map_err(|e| format!("not an audit report: {e}"))?;
        if r.version != REPORT_VERSION {
            return Err(format!("audit report version {} (this sandbox reads version {REPORT_VERSION})", r.version));
        }
        Ok(r)
    }

    /// A table for people: one line per syscall, busiest first, then what was missing.
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "program: {}", self.program.join(" "));
        let _ = writeln!(out, "platform: {}", self.platform);
        if let Some(s) = self.exit_status {
            let _ = writeln!(out, "exit status: {s}");
        }
        let mut rows: Vec<&SyscallRecord> = self.syscalls.iter().collect();
        rows.sort_by(|a, b| b.count.cmp(&a.count).then(a.nr.cmp(&b.nr)));
        let _ = writeln!(out, "\n{:<24} {:>10} {:>8}  {:<13} errors", "syscall", "calls", "failed", "support");
        for r in rows {
            let failed: u64 = r.errors.values().sum();
            let errs: Vec<String> = r.errors.iter().map(|(k, v)| format!("{k}x{v}")).collect();
            let _ = writeln!(out, "{:<24} {:>10} {:>8}  {:<13} {}", r.name, r.count, failed, r.support, errs.join(" "));
        }
        if !self.unimplemented.is_empty() {
            let _ = writeln!(out, "\nunimplemented (the guest got ENOSYS):");
            for u in &self.unimplemented {
                let _ = writeln!(out, "  {} ({}) x{}", u.name, u.nr, u.count);
            }
        }
        if !self.unsupported_commands.is_empty() {
            let _ = writeln!(out, "\nunsupported commands:");
            for c in &self.unsupported_commands {
                let _ = writeln!(out, "  {} {} x{}", c.syscall, c.command, c.count);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trip_and_version_check() {
        let r = AuditReport {
            version: REPORT_VERSION,
            program: vec!["/bin/true".into()],
            platform: "ptrace".into(),
            exit_status: Some(0),
            syscalls: vec![SyscallRecord { nr: 0, name: "read".into(), family: "file".into(), support: "full".into(), count: 2, errors: BTreeMap::from([("EFAULT".into(), 1)]) }],
            unimplemented: vec![Unimplemented { nr: 303, name: "name_to_handle_at".into(), count: 1 }],
            unsupported_commands: vec![],
        };
        let back = AuditReport::from_json(&r.to_json()).unwrap();
        assert_eq!(back, r);
        assert!(r.render_text().contains("name_to_handle_at"));
        let old = r.to_json().replace("\"version\": 1", "\"version\": 99");
        assert!(AuditReport::from_json(&old).unwrap_err().contains("version 99"));
    }
}
