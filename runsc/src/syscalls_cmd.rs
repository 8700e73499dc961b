//! `sandbox syscalls` (the support matrix) and `sandbox audit` (a report for people).

use std::path::Path;

use policy::audit::AuditReport;
use sentry::syscalls::{entries, Support};

use crate::cli::Format;
use crate::status::SANDBOX_FAILED;
use crate::Failure;

/// Prints every x86-64 syscall with its support level, from the Sentry's table.
pub fn syscalls(format: Format) -> Result<u8, Failure> {
    match format {
        Format::Json => {
            let rows: Vec<serde_json::Value> = entries()
                .map(|e| {
                    serde_json::json!({
                        "nr": e.info.nr,
                        "name": e.info.name,
                        "family": e.info.family.name(),
                        "support": e.support.name(),
                        "note": e.note,
                    })
                })
                .collect();
            let doc = serde_json::json!({ "syscalls": rows });
            println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
        }
        Format::Table => {
            println!("{:>4}  {:<24} {:<8} {:<13} note", "nr", "name", "family", "support");
            let mut counts = [0usize; 3];
            for e in entries() {
                counts[e.support as usize] += 1;
                println!("{:>4}  {:<24} {:<8} {:<13} {}", e.info.nr, e.info.name, e.info.family.name(), e.support.name(), e.note);
            }
            println!(
                "\n{} syscalls: {} full, {} partial, {} unimplemented (ENOSYS)",
                counts.iter().sum::<usize>(),
                counts[Support::Full as usize],
                counts[Support::Partial as usize],
                counts[Support::Unimplemented as usize]
            );
        }
    }
    Ok(0)
}

/// Renders an audit report.
pub fn audit(path: &Path) -> Result<u8, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure { status: SANDBOX_FAILED, message: format!("cannot read the audit report {}: {e}", path.display()) })?;
    let report = AuditReport::from_json(&text).map_err(|e| Failure { status: SANDBOX_FAILED, message: format!("{}: {e}", path.display()) })?;
    print!("{}", report.render_text());
    Ok(0)
}
