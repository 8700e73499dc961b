//! Attempts to leave a root, and malformed input on the socket.

mod common;

use std::fs;
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::fs::{symlink, MetadataExt};

use common::{errno, raw_server, Served, TempDir};
use gofer::proto::{self, Frame, Message, Reply, Request, NO_ID};
use gofer::{FileId, Root, WalkStatus};
use syscalls::Errno;

#[test]
fn symlinks_are_returned_never_followed() {
    let t = TempDir::new("symlinks");
    for openat2 in common::resolvers(t.path()) {
        symlinks_case(openat2);
    }
}

fn symlinks_case(openat2: bool) {
    let t = TempDir::new("symlinks");
    fs::create_dir(t.path().join("d")).unwrap();
    symlink("/etc/shadow", t.path().join("shadow")).unwrap();
    symlink("/etc", t.path().join("etc")).unwrap();
    symlink("..", t.path().join("d/up")).unwrap();
    symlink("../../../../../../../..", t.path().join("deep")).unwrap();
    symlink("loop", t.path().join("loop")).unwrap();
    let s = Served::rw_with(t.path(), openat2);
    let c = s.client();
    let root = c.attach(0).unwrap().id;

    // A symlink to a host file outside is a symlink to the client; its target is only text.
    let w = c.walk(root, &[b"shadow"]).unwrap();
    assert_eq!(w.status, WalkStatus::Complete);
    let link = &w.nodes[0];
    assert_eq!(link.stat.st_mode & libc::S_IFMT, libc::S_IFLNK);
    assert_eq!(c.readlink(link.id).unwrap(), b"/etc/shadow");
    assert_eq!(errno(c.open(link.id, libc::O_RDONLY)), Errno::ELOOP);
    assert_eq!(
        errno(c.open(link.id, libc::O_RDONLY | libc::O_DIRECTORY)),
        Errno::ENOTDIR
    );
    // Its stat is the link's, not /etc/shadow's.
    assert_eq!(
        c.stat(link.id).unwrap().st_ino,
        fs::symlink_metadata(t.path().join("shadow")).unwrap().ino()
    );

    // A symlinked directory in the middle of a walk stops the walk at the link.
    let w = c.walk(root, &[b"etc", b"passwd"]).unwrap();
    assert_eq!(w.status, WalkStatus::Symlink);
    assert_eq!(w.nodes.len(), 1);
    assert_eq!(c.readlink(w.nodes[0].id).unwrap(), b"/etc");
    let w = c.walk(root, &[b"d", b"up", b"d"]).unwrap();
    assert_eq!(w.status, WalkStatus::Symlink);
    assert_eq!(w.nodes.len(), 2);
    let w = c.walk(root, &[b"deep", b"etc", b"shadow"]).unwrap();
    assert_eq!((w.status, w.nodes.len()), (WalkStatus::Symlink, 1));
    let w = c.walk_stat(root, &[b"loop", b"x"]).unwrap();
    assert_eq!((w.status, w.stats.len()), (WalkStatus::Symlink, 1));

    // A symlink id is no directory: creating beneath it fails.
    let etc = c.walk(root, &[b"etc"]).unwrap().nodes[0].id;
    assert_eq!(
        errno(c.mkdir(etc, b"x", 0o755, NO_ID, NO_ID)),
        Errno::ENOTDIR
    );
    assert_eq!(errno(c.getdents(etc, 0)), Errno::ENOTDIR);
    assert_eq!(
        c.walk(etc, &[b"passwd"]).unwrap().status,
        WalkStatus::Failed(Errno::ENOTDIR)
    );
    s.finish();
}

#[test]
fn names_that_are_not_single_components_are_rejected() {
    let t = TempDir::new("names");
    for openat2 in common::resolvers(t.path()) {
        names_case(openat2);
    }
}

fn names_case(openat2: bool) {
    let t = TempDir::new("names");
    fs::create_dir(t.path().join("d")).unwrap();
    let s = Served::rw_with(t.path(), openat2);
    let c = s.client();
    let root = c.attach(0).unwrap().id;
    let d = c.walk(root, &[b"d"]).unwrap().nodes[0].id;
    let bad: [&[u8]; 7] = [b"..", b".", b"", b"../etc", b"/etc", b"d/..", b"a\0b"];
    for name in bad {
        let what = String::from_utf8_lossy(name);
        assert_eq!(errno(c.walk(d, &[name])), Errno::EINVAL, "walk {what:?}");
        assert_eq!(
            errno(c.walk(d, &[b"x", name])),
            Errno::EINVAL,
            "walk x/{what:?}"
        );
        assert_eq!(
            errno(c.walk_stat(d, &[name])),
            Errno::EINVAL,
            "walk_stat {what:?}"
        );
        assert_eq!(
            errno(c.mkdir(d, name, 0o755, NO_ID, NO_ID)),
            Errno::EINVAL,
            "mkdir {what:?}"
        );
        assert_eq!(
            errno(c.open_create(d, name, libc::O_RDWR, 0o644, NO_ID, NO_ID)),
            Errno::EINVAL
        );
        assert_eq!(
            errno(c.mknod(d, name, libc::S_IFREG, NO_ID, NO_ID)),
            Errno::EINVAL
        );
        assert_eq!(
            errno(c.symlink(d, name, b"target", NO_ID, NO_ID)),
            Errno::EINVAL
        );
        assert_eq!(
            errno(c.unlink(root, name, 0)),
            Errno::EINVAL,
            "unlink {what:?}"
        );
        assert_eq!(
            errno(c.unlink(root, name, libc::AT_REMOVEDIR)),
            Errno::EINVAL
        );
        assert_eq!(errno(c.rename(root, b"d", root, name, 0)), Errno::EINVAL);
        assert_eq!(errno(c.rename(root, name, root, b"e", 0)), Errno::EINVAL);
        assert_eq!(errno(c.link(root, name, d)), Errno::EINVAL);
    }
    // Nothing was created or removed anywhere.
    assert!(t.path().join("d").is_dir());
    assert_eq!(fs::read_dir(t.path()).unwrap().count(), 1);
    assert_eq!(fs::read_dir(t.path().join("d")).unwrap().count(), 0);
    s.finish();
}

#[test]
fn ids_are_the_servers() {
    let t = TempDir::new("ids");
    fs::write(t.path().join("f"), b"x").unwrap();
    let s = Served::rw(t.path());
    let c = s.client();
    let root = c.attach(0).unwrap().id;
    // A made-up id names nothing: there is no way to name a host file outside.
    for id in [
        FileId(0),
        FileId(2),
        FileId(u64::MAX),
        FileId(libc::STDIN_FILENO as u64),
    ] {
        assert_eq!(errno(c.link(root, b"stolen", id)), Errno::EBADF);
        assert_eq!(errno(c.open(id, libc::O_RDONLY)), Errno::EBADF);
        assert_eq!(errno(c.walk(id, &[b"f"])), Errno::EBADF);
    }
    assert!(!t.path().join("stolen").exists());
    // Closed ids are gone.
    let f = c.walk(root, &[b"f"]).unwrap().nodes[0].id;
    c.close(&[f, FileId(777_777)]).unwrap();
    assert_eq!(errno(c.link(root, b"again", f)), Errno::EBADF);
    s.finish();
}

/// Sends raw bytes and returns the decoded reply.
fn raw_call(
    sock: &std::os::fd::OwnedFd,
    bytes: &[u8],
    fd: Option<std::os::fd::BorrowedFd<'_>>,
) -> Frame {
    send_raw(sock, bytes, fd);
    let mut buf = vec![0u8; proto::MAX_MESSAGE + 1];
    // SAFETY: `buf` is writable for its length.
    let n = unsafe { libc::recv(sock.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
    assert!(n > 0, "server closed the connection");
    proto::decode(&buf[..n as usize]).unwrap()
}

fn send_raw(sock: &std::os::fd::OwnedFd, bytes: &[u8], fd: Option<std::os::fd::BorrowedFd<'_>>) {
    let mut iov = libc::iovec {
        iov_base: bytes.as_ptr() as *mut _,
        iov_len: bytes.len(),
    };
    let mut cbuf = [0u64; 4];
    // SAFETY: msghdr is plain data; zero is an empty header.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    if let Some(fd) = fd {
        msg.msg_control = cbuf.as_mut_ptr().cast();
        // SAFETY: CMSG_SPACE computes a size.
        msg.msg_controllen = unsafe { libc::CMSG_SPACE(4) } as usize;
        // SAFETY: the control buffer is aligned and large enough for one cmsg with one int.
        unsafe {
            let c = libc::CMSG_FIRSTHDR(&msg);
            (*c).cmsg_level = libc::SOL_SOCKET;
            (*c).cmsg_type = libc::SCM_RIGHTS;
            (*c).cmsg_len = libc::CMSG_LEN(4) as usize;
            std::ptr::write_unaligned(libc::CMSG_DATA(c).cast::<i32>(), fd.as_raw_fd());
        }
    }
    // SAFETY: msg points at live buffers.
    let n = unsafe { libc::sendmsg(sock.as_raw_fd(), &msg, 0) };
    assert_eq!(n as usize, bytes.len());
}

fn encoded(tag: u32, req: Request) -> Vec<u8> {
    let mut b = Vec::new();
    proto::encode(
        &Frame {
            tag,
            msg: Message::Request(req),
        },
        &mut b,
    )
    .unwrap();
    b
}

#[test]
fn malformed_messages_get_einval_and_the_server_goes_on() {
    let t = TempDir::new("malformed");
    let (sock, server) = raw_server(vec![Root::read_write(t.path())]);
    let einval = Message::Reply(Reply::Error(Errno::EINVAL));

    // Garbage, a short header, a wrong version, a lying length, an unknown kind.
    let good = encoded(5, Request::Attach { root: 0 });
    let mut wrong_version = good.clone();
    wrong_version[0] = 9;
    let mut lying = good.clone();
    lying[8] = 200;
    let mut unknown = good.clone();
    unknown[2] = 77;
    for bytes in [
        &b"\xde\xad\xbe\xef\xde\xad\xbe\xef\xde\xad\xbe\xef\xde\xad"[..],
        b"\x01\x47",
        &wrong_version,
        &lying,
        &unknown,
    ] {
        assert_eq!(raw_call(&sock, bytes, None).msg, einval, "{bytes:?}");
    }
    // A datagram over the limit.
    let mut huge = good.clone();
    huge.resize(proto::MAX_MESSAGE + 100, 0);
    assert_eq!(raw_call(&sock, &huge, None).msg, einval);
    // A reply sent as a request.
    let mut reply = Vec::new();
    proto::encode(
        &Frame {
            tag: 9,
            msg: Message::Reply(Reply::Close),
        },
        &mut reply,
    )
    .unwrap();
    assert_eq!(
        raw_call(&sock, &reply, None),
        Frame {
            tag: 9,
            msg: einval.clone()
        }
    );
    // A request carrying an FD (requests never do): refused, and the FD is not kept.
    let stray = fs::File::open("/dev/null").unwrap();
    assert_eq!(raw_call(&sock, &good, Some(stray.as_fd())).msg, einval);

    // The server is still serving, and tags are echoed.
    let f = raw_call(&sock, &good, None);
    assert_eq!(f.tag, 5);
    assert!(matches!(f.msg, Message::Reply(Reply::Attach(_))));

    drop(sock);
    server.join().unwrap().unwrap();
}

#[test]
fn server_ends_cleanly_when_the_client_goes() {
    let t = TempDir::new("eof");
    let (sock, server) = raw_server(vec![Root::read_write(t.path())]);
    // A request whose reply nobody reads: the server must not die of SIGPIPE.
    send_raw(&sock, &encoded(1, Request::Attach { root: 0 }), None);
    drop(sock);
    server.join().unwrap().unwrap();
}

#[test]
fn bad_roots_are_one_clear_error() {
    let e = gofer::serve(
        gofer::socketpair().unwrap().1,
        vec![Root::read_only("/nonexistent/gofer/root")],
    )
    .unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.starts_with("cannot open root /nonexistent/gofer/root: "),
        "{msg}"
    );
    assert!(!msg.contains('\n'));
}
