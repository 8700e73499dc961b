//! Signal delivery compared with native runs: handlers and their frames, masks, sigaltstack,
//! queued real-time signals, sigtimedwait, signalfd, blocking calls cut short (EINTR) or
//! restarted (SA_RESTART), SIGCHLD's siginfo, faults handled in the guest.

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
fn stop_continue_and_waitid_match_native() {
    assert_same(&guest("jobctl"), &[], &[]);
}

#[test]
fn alarm_itimer_and_posix_timers_match_native() {
    assert_same(&guest("timers"), &[], &[]);
}
