//! Filesystem syscalls on the sandbox's own tmpfs, compared with the same guest run natively
//! (in a fresh directory under the host's /tmp, which the guest removes again).

use sandbox_tests::{assert_same, build_guest, guest, Link};

#[test]
fn tmpfs_file_operations_same_as_native() {
    for link in [Link::Static, Link::StaticPie] {
        let prog = build_guest("files", link);
        assert_same(&prog, &[], &[]);
    }
}

/// A write whose source maps the file it writes (overlapping both ways), and a large one, on
/// a tmpfs: natively /dev/shm, sandboxed the sandbox's own.
#[test]
fn writes_from_a_mapping_of_the_same_file_same_as_native() {
    assert_same(&guest("selfwrite"), &["/dev/shm"], &[]);
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

/// mount(2) would change the host natively, so this runs sandboxed only, against the output
/// Linux gives in a private mount namespace.
#[test]
fn mount_and_umount_inside_the_sandbox() {
    let prog = build_guest("mounts", Link::Static);
    let out = sandbox_tests::run(&mut sandbox_tests::sandbox_run(&[], &prog, &[]));
    assert_eq!(out.status(), 0, "{}", out.describe());
    let expected = "mount tmpfs = 0\nunder hidden = -1 ENOENT\nover visible = 0\numount = 0\nunder back = 0\nover gone = -1 ENOENT\n\
umount not a mount = -1 EINVAL\nbind = 0\nsame file via bind = 0\nremount ro = 0\ncreate on ro = -1 EROFS\ncreate beside = 3\n\
unknown fs = -1 ENODEV\numount bind = 0\nbad flags = -1 EINVAL\n";
    assert_eq!(out.stdout_str(), expected, "{}", out.describe());
}

#[test]
fn splice_tee_and_v2_io_same_as_native() {
    assert_same(&build_guest("splice", Link::Static), &[], &[]);
}

#[test]
fn proc_self_same_as_native() {
    assert_same(&build_guest("proc", Link::Static), &["second"], &[]);
}

#[test]
fn big_directories_renames_unlinked_files_append_sparse_and_fifos_same_as_native() {
    assert_same(&build_guest("files3", Link::Static), &[], &[]);
}

#[test]
fn o_excl_races_between_processes_same_as_native() {
    assert_same(&build_guest("excl_race", Link::Static), &[], &[]);
}
