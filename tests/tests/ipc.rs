//! SysV IPC compared with native runs. Natively the guest runs in a fresh IPC namespace
//! (`unshare --ipc`), so the host's own segments are never touched.

use std::process::Command;

use sandbox_tests::{guest, run, sandbox_run};

#[test]
fn sysv_shared_memory_matches_native() {
    let prog = guest("shm");
    let native = run(Command::new("unshare").arg("--ipc").arg(&prog));
    let sandboxed = run(&mut sandbox_run(&[], &prog, &[]));
    assert_eq!(native.status(), sandboxed.status(), "--- native\n{}\n--- sandboxed\n{}", native.describe(), sandboxed.describe());
    assert!(native.stdout_str() == sandboxed.stdout_str(), "stdout differs\n--- native\n{}\n--- sandboxed\n{}", native.describe(), sandboxed.describe());
}
