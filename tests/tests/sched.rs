//! The scheduling and accounting family compared with native runs: affinity and getcpu,
//! policies and priorities (inheritance, SCHED_RESET_ON_FORK, the unprivileged rules),
//! getrusage, times and sysinfo.

#[test]
fn sched_calls_match_native() {
    sandbox_tests::assert_same(&sandbox_tests::guest("sched"), &[], &[]);
}
