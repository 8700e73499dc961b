//! `sandbox syscalls` (the support matrix) and `sandbox audit` (a report for people).

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use policy::audit::AuditReport;
use sentry::syscalls::{entries, Support};

use crate::cli::Format;
use crate::status::SANDBOX_FAILED;
use crate::Failure;

/// Prints every x86-64 syscall with its support level, from the Sentry's table. A closed
/// stdout (`| head`) ends the listing quietly.
pub fn syscalls(format: Format) -> Result<u8, Failure> {
    let mut out = String::new();
    render(format, &mut out);
    match std::io::stdout().lock().write_all(out.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Failure { status: SANDBOX_FAILED, message: format!("cannot write the table: {e}") }),
        _ => Ok(0),
    }
}

fn render(format: Format, o: &mut String) {
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
            let _ = writeln!(o, "{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
        }
        Format::Table => {
            let _ = writeln!(o, "{:>4}  {:<24} {:<8} {:<13} note", "nr", "name", "family", "support");
            let mut counts = [0usize; 3];
            for e in entries() {
                counts[e.support as usize] += 1;
                let _ = writeln!(o, "{:>4}  {:<24} {:<8} {:<13} {}", e.info.nr, e.info.name, e.info.family.name(), e.support.name(), e.note);
            }
            let _ = writeln!(
                o,
                "\n{} syscalls: {} full, {} partial, {} unimplemented (ENOSYS)",
                counts.iter().sum::<usize>(),
                counts[Support::Full as usize],
                counts[Support::Partial as usize],
                counts[Support::Unimplemented as usize]
            );
        }
    }
}

/// Renders an audit report.
pub fn audit(path: &Path) -> Result<u8, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure { status: SANDBOX_FAILED, message: format!("cannot read the audit report {}: {e}", path.display()) })?;
    let report = AuditReport::from_json(&text).map_err(|e| Failure { status: SANDBOX_FAILED, message: format!("{}: {e}", path.display()) })?;
    print!("{}", report.render_text());
    Ok(0)
}
