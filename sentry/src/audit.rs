//! Per-syscall counters, kept on the hot path with relaxed atomics (no allocation, no lock),
//! and the audit report built from them at the end of a run.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use policy::audit::{AuditReport, SyscallRecord, Unimplemented, UnsupportedCommand, REPORT_VERSION};
use syscalls::{nr, Errno};

use crate::syscalls::{entry, Support};

const ERRNOS: usize = Errno::MAX;

/// Counters for one sandbox.
pub struct Audit {
    calls: Box<[AtomicU64]>,
    errors: Box<[AtomicU64]>,
    /// Numbers beyond the table (rare): counted under a lock.
    unknown: Mutex<BTreeMap<u64, u64>>,
    commands: Mutex<BTreeMap<(&'static str, u64), u64>>,
}

impl Default for Audit {
    fn default() -> Self {
        Audit {
            calls: (0..nr::MAX).map(|_| AtomicU64::new(0)).collect(),
            errors: (0..nr::MAX as usize * ERRNOS).map(|_| AtomicU64::new(0)).collect(),
            unknown: Mutex::default(),
            commands: Mutex::default(),
        }
    }
}

impl Audit {
    /// Counts one call and its result.
    pub fn record(&self, nr: u64, ret: i64) {
        let Some(calls) = self.calls.get(nr as usize) else {
            *self.unknown.lock().unwrap_or_else(|e| e.into_inner()).entry(nr).or_default() += 1;
            return;
        };
        calls.fetch_add(1, Ordering::Relaxed);
        if (-4095..0).contains(&ret) && (-ret as usize) < ERRNOS {
            self.errors[nr as usize * ERRNOS + (-ret) as usize].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Notes an unsupported command of a multiplexing syscall (one audit row per command).
    pub fn unsupported_command(&self, syscall: &'static str, cmd: u64) {
        let mut m = self.commands.lock().unwrap_or_else(|e| e.into_inner());
        let n = m.entry((syscall, cmd)).or_default();
        if *n == 0 {
            tracing::warn!("unsupported {syscall} command {cmd:#x}");
        }
        *n += 1;
    }

    /// Builds the report.
    pub fn report(&self, program: Vec<String>, platform: &str, exit_status: Option<i32>) -> AuditReport {
        let mut r = AuditReport { version: REPORT_VERSION, program, platform: platform.into(), exit_status, ..Default::default() };
        for (n, c) in self.calls.iter().enumerate() {
            let count = c.load(Ordering::Relaxed);
            if count == 0 {
                continue;
            }
            let e = entry(n as u64);
            let errors = (1..ERRNOS)
                .filter_map(|i| {
                    let v = self.errors[n * ERRNOS + i].load(Ordering::Relaxed);
                    let name = Errno::from_raw(i as i32).map_or_else(|| format!("E{i}"), |e| e.name().to_string());
                    (v > 0).then_some((name, v))
                })
                .collect();
            let name = e.map_or_else(|| format!("syscall_{n}"), |e| e.info.name.to_string());
            let support = e.map_or(Support::Unimplemented, |e| e.support);
            if support == Support::Unimplemented {
                r.unimplemented.push(Unimplemented { nr: n as u64, name: name.clone(), count });
            }
            r.syscalls.push(SyscallRecord {
                nr: n as u64,
                name,
                family: e.map_or("unknown", |e| e.info.family.name()).to_string(),
                support: support.name().to_string(),
                count,
                errors,
            });
        }
        for (&n, &count) in self.unknown.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            let name = format!("syscall_{n}");
            r.unimplemented.push(Unimplemented { nr: n, name: name.clone(), count });
            r.syscalls.push(SyscallRecord {
                nr: n,
                name,
                family: "unknown".into(),
                support: Support::Unimplemented.name().into(),
                count,
                errors: BTreeMap::from([("ENOSYS".to_string(), count)]),
            });
        }
        for (&(syscall, cmd), &count) in self.commands.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            r.unsupported_commands.push(UnsupportedCommand { syscall: syscall.into(), command: format!("{cmd:#x}"), count });
        }
        r
    }
}
