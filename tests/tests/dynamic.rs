//! Dynamically linked programs from the host (glibc's loader from PT_INTERP, shared libraries
//! mapped privately, futexes), compared with native runs.

use std::path::Path;
use std::process::Command;

use sandbox_tests::{run, sandbox_run};

fn same(program: &str, args: &[&str]) {
    let n = run(Command::new(program).args(args));
    let s = run(&mut sandbox_run(&[], Path::new(program), args));
    assert_eq!(n.status(), s.status(), "{program} {args:?}\n--- native\n{}\n--- sandboxed\n{}", n.describe(), s.describe());
    assert!(n.stdout_str() == s.stdout_str(), "{program} {args:?}: stdout differs\n--- native\n{}\n--- sandboxed\n{}", n.describe(), s.describe());
}

#[test]
fn host_dynamic_programs_match_native() {
    same("/bin/echo", &["hello", "from a dynamic program"]);
    same("/bin/ls", &["-la", "/usr/share/doc/bash"]);
    same("/usr/bin/sort", &["/etc/passwd"]);
    same("/usr/bin/sha256sum", &["/etc/os-release"]);
    same("/bin/sh", &["-c", "for i in 1 2 3; do echo $i; done | /usr/bin/tac; /bin/echo done"]);
}
