//! futex compared with native runs, between processes sharing MAP_SHARED memory: REQUEUE,
//! CMP_REQUEUE, WAKE_OP, the PI lock operations, get_robust_list and bad requests; and the
//! robust-list cleanup of a process that dies holding locks.

use sandbox_tests::{assert_same, guest};

#[test]
fn futex_ops_match_native() {
    assert_same(&guest("futex2"), &[], &[]);
}

#[test]
fn robust_list_cleanup_at_exit_matches_native() {
    assert_same(&guest("futex2"), &["robust"], &[]);
}
