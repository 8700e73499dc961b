//! Filesystem syscalls on the sandbox's own tmpfs, compared with the same guest run natively
//! (in a fresh directory under the host's /tmp, which the guest removes again).

use sandbox_tests::{assert_same, build_guest, Link};

#[test]
fn tmpfs_file_operations_same_as_native() {
    for link in [Link::Static, Link::StaticPie] {
        let prog = build_guest("files", link);
        assert_same(&prog, &[], &[]);
    }
}

#[test]
fn pipes_poll_select_and_dev_same_as_native() {
    assert_same(&build_guest("pipes", Link::Static), &[], &[]);
}

#[test]
fn eventfd_and_timerfd_same_as_native() {
    assert_same(&build_guest("eventfd_timerfd", Link::Static), &[], &[]);
}

#[test]
fn epoll_same_as_native() {
    assert_same(&build_guest("epoll", Link::Static), &[], &[]);
}

#[test]
fn sync_statfs_fallocate_flock_memfd_sendfile_same_as_native() {
    assert_same(&build_guest("fileops2", Link::Static), &[], &[]);
}

#[test]
fn record_and_ofd_locks_same_as_native() {
    assert_same(&build_guest("locks", Link::Static), &[], &[]);
}

#[test]
fn inotify_events_same_as_native() {
    assert_same(&build_guest("inotify", Link::Static), &[], &[]);
}
