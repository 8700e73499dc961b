//! Signal delivery compared with native runs: handlers and their frames (with the XSAVE area
//! as Linux lays it out), masks, sigaltstack, queued real-time signals, sigtimedwait,
//! signalfd, blocking calls cut short (EINTR) or restarted (SA_RESTART), SIGCHLD's siginfo,
//! faults handled in the guest, job control (stops, SIGCONT to the process or one thread).

use sandbox_tests::{assert_same, guest};

#[test]
fn handlers_masks_altstack_eintr_and_restart_match_native() {
    assert_same(&guest("signals"), &[], &[]);
}

#[test]
fn segv_retry_queued_signals_signalfd_and_interrupted_sleeps_match_native() {
    assert_same(&guest("signals2"), &[], &[]);
}

#[test]
fn signal_frames_and_their_fpu_state_match_native() {
    assert_same(&guest("sigframe"), &[], &[]);
}

#[test]
fn stop_continue_and_waitid_match_native() {
    assert_same(&guest("jobctl"), &[], &[]);
}

#[test]
fn sigcont_and_stop_signals_act_whoever_they_are_sent_to_as_native() {
    assert_same(&guest("sigcont"), &[], &[]);
}

#[test]
fn alarm_itimer_and_posix_timers_match_native() {
    assert_same(&guest("timers"), &[], &[]);
}

/// Starts guest `name` with `args` in the sandbox, waits for its "ready", sends `sig` (a name
/// for kill(1)) to the sandbox process and returns (status, the rest of stdout).
fn signal_the_sandbox(name: &str, args: &[&str], sig: &str) -> (i32, String) {
    use std::io::{BufRead, BufReader, Read};
    use std::os::unix::process::ExitStatusExt;
    let mut child = sandbox_tests::sandbox_run(&[], &guest(name), args).stdout(std::process::Stdio::piped()).spawn().unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    assert_eq!(first, "ready\n");
    let sent = std::process::Command::new("kill").arg(format!("-{sig}")).arg(child.id().to_string()).status().unwrap();
    assert!(sent.success());
    let mut rest = String::new();
    out.read_to_string(&mut rest).unwrap();
    let st = child.wait().unwrap();
    (st.code().unwrap_or_else(|| 128 + st.signal().unwrap_or(0)), rest)
}

#[test]
fn signals_sent_to_the_sandbox_reach_the_guest() {
    // A handler runs, and sees a sender outside its pid namespace (pid 0).
    assert_eq!(signal_the_sandbox("waitsig", &[], "TERM"), (3, "got signal 15 from pid 0\n".to_string()));
    // A default action ends the guest, and the sandbox reports it as the shell would.
    assert_eq!(signal_the_sandbox("waitsig", &[], "INT"), (130, String::new()));
    // Even one that spins without system calls: Ctrl-C stops a runaway guest.
    assert_eq!(signal_the_sandbox("spin", &["forever"], "INT"), (130, String::new()));
}

#[test]
fn a_busy_guest_gets_its_alarm() {
    assert_same(&guest("spin"), &[], &[]);
}

#[test]
fn stop_signals_are_discarded_in_an_orphaned_process_group() {
    // The sandbox's init is in an orphaned group (its parent is outside the sandbox), as a
    // container's init is; natively this depends on how the test runner was started.
    let o = sandbox_tests::run(&mut sandbox_tests::sandbox_run(&[], &guest("jobctl"), &["orphaned"]));
    assert_eq!(o.stdout_str(), "SIGTSTP in an orphaned group: exited 4\n", "{}", o.describe());
}

#[test]
fn hostile_stack_and_time_values_match_native() {
    assert_same(&guest("badstack"), &[], &[]);
    assert_same(&guest("hugetime"), &[], &[]);
}
