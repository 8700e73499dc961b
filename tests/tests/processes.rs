//! Processes compared with native runs: vfork and exec, copy-on-write and shared memory across
//! fork, scripts, subreapers and orphans, prctl; and shell scripts that lean on all of it
//! (pipelines, subshells, background jobs, traps, set -e).

use std::path::Path;

use sandbox_tests::{assert_same, guest, TempDir};

#[test]
fn fork_exec_shared_memory_orphans_and_prctl_match_native() {
    let dir = TempDir::new("procs");
    assert_same(&guest("procs"), &[dir.path().to_str().unwrap()], &[]);
}

const SCRIPT: &str = r#"
set -u
echo start
x=$(echo sub | tr a-z A-Z); echo "command substitution: $x"
(echo in a subshell; exit 3); echo "subshell status $?"
echo c b a | tr ' ' '\n' | sort | head -2 | cat -n
sleep 0.1 & pid=$!; wait $pid; echo "background status $?"
sleep 0.1 & pid=$!; test -d /proc/$pid && echo "running: in /proc"; wait $pid; test -d /proc/$pid || echo "reaped: gone from /proc"
for i in $(seq 100); do (exit 0) & done; wait; echo "100 background jobs done"
f() { return 4; }; f || echo "function failed with $?"
( set -e; false; echo not reached ); echo "set -e status $?"
trap 'echo trapped EXIT' EXIT
trap 'echo got USR1' USR1; kill -USR1 $$; echo after USR1
sh -c 'kill -TERM $$'; echo "child killed: $?"
exit 2
"#;

#[test]
fn sh_and_bash_scripts_match_native() {
    let dir = TempDir::new("scripts");
    let script = dir.join("script.sh");
    std::fs::write(&script, SCRIPT).unwrap();
    for shell in ["/bin/sh", "/bin/bash"] {
        if Path::new(shell).exists() {
            assert_same(Path::new(shell), &[script.to_str().unwrap()], &[]);
        }
    }
}

#[test]
fn credentials_match_native() {
    let dir = TempDir::new("creds");
    assert_same(&guest("creds"), &[dir.path().to_str().unwrap()], &[]);
}

#[test]
fn pidfd_and_clone3_match_native() {
    assert_same(&guest("pidfd"), &[], &[]);
}

#[test]
fn enforced_rlimits_match_native() {
    let dir = TempDir::new("rlimits");
    assert_same(&guest("rlimits"), &[dir.path().to_str().unwrap()], &[]);
}

#[test]
fn capabilities_match_native() {
    assert_same(&guest("caps"), &[], &[]);
}

#[test]
fn rlimit_cpu_sends_sigxcpu_then_sigkill_as_native() {
    assert_same(&guest("cpulimit"), &[], &[]);
}

#[test]
fn cpu_time_of_a_child_is_its_own() {
    assert_same(&guest("cpubase"), &[], &[]);
}
