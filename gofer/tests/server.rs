//! The server through the client, over a socketpair, on a temporary directory.

mod common;

use std::collections::HashSet;
use std::fs;
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};

use common::{errno, Served, TempDir};
use gofer::proto::{
    NO_ID, SETSTAT_ATIME, SETSTAT_GID, SETSTAT_MODE, SETSTAT_MTIME, SETSTAT_SIZE, SETSTAT_UID,
};
use gofer::{FileId, Root, SetStat, WalkStatus};
use syscalls::structs::Timespec;
use syscalls::Errno;

const S_IFMT: u32 = libc::S_IFMT;

#[test]
fn walk_open_and_read_through_the_donated_fd() {
    let t = TempDir::new("walk");
    for openat2 in common::resolvers(t.path()) {
        walk_case(openat2);
    }
}

fn walk_case(openat2: bool) {
    let t = TempDir::new("walk");
    fs::create_dir(t.path().join("a")).unwrap();
    fs::write(t.path().join("a/b.txt"), b"hello gofer").unwrap();
    let s = Served::rw_with(t.path(), openat2);
    let c = s.client();

    let root = c.attach(0).unwrap();
    assert_eq!(root.stat.st_mode & S_IFMT, libc::S_IFDIR);
    let w = c.walk(root.id, &[b"a", b"b.txt"]).unwrap();
    assert_eq!(w.status, WalkStatus::Complete);
    assert_eq!(w.nodes.len(), 2);
    assert_eq!(w.nodes[1].stat.st_size, 11);
    assert_eq!(
        w.nodes[1].stat.st_ino,
        fs::metadata(t.path().join("a/b.txt")).unwrap().ino()
    );

    let fd = c.open(w.nodes[1].id, libc::O_RDONLY).unwrap();
    let mut f = fs::File::from(fd);
    let mut s_ = String::new();
    f.read_to_string(&mut s_).unwrap();
    assert_eq!(s_, "hello gofer");

    // WalkStat reports the same, without ids.
    let ws = c.walk_stat(root.id, &[b"a", b"b.txt"]).unwrap();
    assert_eq!(ws.status, WalkStatus::Complete);
    assert_eq!(ws.stats[1].st_ino, w.nodes[1].stat.st_ino);

    // A missing component stops the walk with ENOENT after the part that exists.
    let w = c.walk(root.id, &[b"a", b"nope", b"x"]).unwrap();
    assert_eq!(w.status, WalkStatus::Failed(Errno::ENOENT));
    assert_eq!(w.nodes.len(), 1);
    // A file in the middle: ENOTDIR.
    let w = c.walk(root.id, &[b"a", b"b.txt", b"x"]).unwrap();
    assert_eq!(w.status, WalkStatus::Failed(Errno::ENOTDIR));
    assert_eq!(w.nodes.len(), 2);

    // Opening a directory for writing, or a file as a directory, fails as Linux does.
    assert_eq!(errno(c.open(root.id, libc::O_WRONLY)), Errno::EISDIR);
    let file = c.walk(root.id, &[b"a", b"b.txt"]).unwrap().nodes[1].id;
    assert_eq!(
        errno(c.open(file, libc::O_RDONLY | libc::O_DIRECTORY)),
        Errno::ENOTDIR
    );
    // O_CREAT never goes through Open.
    assert_eq!(
        errno(c.open(file, libc::O_RDONLY | libc::O_CREAT)),
        Errno::EINVAL
    );
    // A directory opens read-only, and the FD reads entries.
    let dfd = c.open(root.id, libc::O_RDONLY | libc::O_DIRECTORY).unwrap();
    assert!(fs::File::from(dfd).metadata().unwrap().is_dir());

    // Close forgets ids.
    c.close(&[file]).unwrap();
    assert_eq!(errno(c.stat(file)), Errno::EBADF);
    assert_eq!(errno(c.stat(FileId(987_654))), Errno::EBADF);
    s.finish();
}

#[test]
fn create_link_rename_unlink() {
    let t = TempDir::new("create");
    for openat2 in common::resolvers(t.path()) {
        create_case(openat2);
    }
}

fn create_case(openat2: bool) {
    let t = TempDir::new("create");
    let s = Served::rw_with(t.path(), openat2);
    let c = s.client();
    let root = c.attach(0).unwrap().id;

    // OpenCreate: the donated FD writes the host file.
    let (node, fd) = c
        .open_create(root, b"new.txt", libc::O_RDWR, 0o640, NO_ID, NO_ID)
        .unwrap();
    assert_eq!(node.stat.st_mode, libc::S_IFREG | 0o640 & !current_umask());
    let mut f = fs::File::from(fd);
    f.write_all(b"written by the sentry").unwrap();
    f.seek(SeekFrom::Start(0)).unwrap();
    assert_eq!(
        fs::read(t.path().join("new.txt")).unwrap(),
        b"written by the sentry"
    );
    assert_eq!(
        errno(c.open_create(root, b"new.txt", libc::O_RDWR, 0o600, NO_ID, NO_ID)),
        Errno::EEXIST
    );
    assert_eq!(c.stat(node.id).unwrap().st_size, 21);

    // Mkdir, then create inside it.
    let d = c.mkdir(root, b"dir", 0o755, NO_ID, NO_ID).unwrap();
    assert_eq!(d.stat.st_mode & S_IFMT, libc::S_IFDIR);
    assert!(t.path().join("dir").is_dir());
    assert_eq!(
        errno(c.mkdir(root, b"dir", 0o755, NO_ID, NO_ID)),
        Errno::EEXIST
    );

    // Mknod: FIFOs and regular files only.
    let fifo = c
        .mknod(d.id, b"fifo", libc::S_IFIFO | 0o600, NO_ID, NO_ID)
        .unwrap();
    assert_eq!(fifo.stat.st_mode & S_IFMT, libc::S_IFIFO);
    assert!(fs::metadata(t.path().join("dir/fifo"))
        .unwrap()
        .file_type()
        .is_fifo());
    // Opening a FIFO never blocks the server (it is opened non-blocking).
    drop(c.open(fifo.id, libc::O_RDONLY).unwrap());
    let reg = c
        .mknod(d.id, b"reg", libc::S_IFREG | 0o600, NO_ID, NO_ID)
        .unwrap();
    assert_eq!(reg.stat.st_mode & S_IFMT, libc::S_IFREG);
    assert_eq!(
        errno(c.mknod(d.id, b"chr", libc::S_IFCHR | 0o600, NO_ID, NO_ID)),
        Errno::EPERM
    );
    assert_eq!(
        errno(c.mknod(d.id, b"blk", libc::S_IFBLK | 0o600, NO_ID, NO_ID)),
        Errno::EPERM
    );
    assert_eq!(
        errno(c.mknod(d.id, b"sock", libc::S_IFSOCK | 0o600, NO_ID, NO_ID)),
        Errno::EPERM
    );

    // Symlink and readlink; the target is stored, never resolved.
    let l = c
        .symlink(root, b"link", b"dir/../new.txt", NO_ID, NO_ID)
        .unwrap();
    assert_eq!(l.stat.st_mode & S_IFMT, libc::S_IFLNK);
    assert_eq!(c.readlink(l.id).unwrap(), b"dir/../new.txt");
    assert_eq!(
        fs::read_link(t.path().join("link")).unwrap().as_os_str(),
        "dir/../new.txt"
    );
    assert_eq!(errno(c.readlink(node.id)), Errno::EINVAL);
    assert_eq!(
        errno(c.symlink(root, b"empty", b"", NO_ID, NO_ID)),
        Errno::ENOENT
    );

    // Hard link between held files.
    let h = c.link(d.id, b"hard", node.id).unwrap();
    assert_eq!(h.stat.st_ino, node.stat.st_ino);
    assert_eq!(h.stat.st_nlink, 2);
    assert_eq!(
        fs::metadata(t.path().join("dir/hard")).unwrap().ino(),
        node.stat.st_ino
    );
    assert_eq!(errno(c.link(root, b"dirlink", d.id)), Errno::EPERM);
    // A link to a symlink links the symlink itself.
    let hl = c.link(d.id, b"hardlink-to-link", l.id).unwrap();
    assert_eq!(hl.stat.st_ino, l.stat.st_ino);

    // Rename, with and without RENAME_NOREPLACE, and RENAME_EXCHANGE.
    c.rename(root, b"new.txt", d.id, b"moved.txt", 0).unwrap();
    assert!(t.path().join("dir/moved.txt").exists());
    assert!(!t.path().join("new.txt").exists());
    assert_eq!(
        errno(c.rename(d.id, b"moved.txt", d.id, b"hard", libc::RENAME_NOREPLACE)),
        Errno::EEXIST
    );
    c.rename(d.id, b"moved.txt", d.id, b"reg", libc::RENAME_EXCHANGE)
        .unwrap();
    assert_eq!(
        fs::metadata(t.path().join("dir/reg")).unwrap().ino(),
        node.stat.st_ino
    );
    assert_eq!(
        errno(c.rename(d.id, b"reg", d.id, b"x", 1 << 2)),
        Errno::EINVAL
    ); // RENAME_WHITEOUT
    assert_eq!(
        errno(c.rename(d.id, b"absent", d.id, b"x", 0)),
        Errno::ENOENT
    );

    // Unlink a file, then rmdir needs AT_REMOVEDIR and an empty directory.
    assert_eq!(errno(c.unlink(root, b"dir", 0)), Errno::EISDIR);
    assert_eq!(
        errno(c.unlink(root, b"dir", libc::AT_REMOVEDIR)),
        Errno::ENOTEMPTY
    );
    for n in [
        &b"fifo"[..],
        b"reg",
        b"hard",
        b"moved.txt",
        b"hardlink-to-link",
    ] {
        c.unlink(d.id, n, 0).unwrap();
    }
    c.unlink(root, b"dir", libc::AT_REMOVEDIR).unwrap();
    assert!(!t.path().join("dir").exists());
    assert_eq!(
        errno(c.unlink(root, b"link", libc::AT_SYMLINK_NOFOLLOW)),
        Errno::EINVAL
    );
    // A held file outlives its name.
    assert_eq!(c.stat(node.id).unwrap().st_nlink, 0);
    s.finish();
}

fn current_umask() -> u32 {
    let status = fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("Umask:")).unwrap();
    u32::from_str_radix(line["Umask:".len()..].trim(), 8).unwrap()
}

#[test]
fn set_stat_statfs_fsync() {
    let t = TempDir::new("setstat");
    fs::write(t.path().join("f"), b"0123456789").unwrap();
    let s = Served::rw(t.path());
    let c = s.client();
    let root = c.attach(0).unwrap().id;
    let f = c.walk(root, &[b"f"]).unwrap().nodes[0].id;

    c.set_stat(
        f,
        &SetStat {
            mask: SETSTAT_MODE,
            mode: 0o600,
            ..SetStat::default()
        },
    )
    .unwrap();
    assert_eq!(
        fs::metadata(t.path().join("f"))
            .unwrap()
            .permissions()
            .mode()
            & 0o7777,
        0o600
    );

    c.set_stat(
        f,
        &SetStat {
            mask: SETSTAT_SIZE,
            size: 4,
            ..SetStat::default()
        },
    )
    .unwrap();
    assert_eq!(fs::read(t.path().join("f")).unwrap(), b"0123");
    c.set_stat(
        f,
        &SetStat {
            mask: SETSTAT_SIZE,
            size: 1 << 20,
            ..SetStat::default()
        },
    )
    .unwrap();
    assert_eq!(c.stat(f).unwrap().st_size, 1 << 20);

    // Explicit times, then UTIME_OMIT keeps one while UTIME_NOW moves the other.
    let at = Timespec {
        tv_sec: 1_000_000_000,
        tv_nsec: 5,
    };
    let mt = Timespec {
        tv_sec: 1_100_000_000,
        tv_nsec: 7,
    };
    c.set_stat(
        f,
        &SetStat {
            mask: SETSTAT_ATIME | SETSTAT_MTIME,
            atime: at,
            mtime: mt,
            ..SetStat::default()
        },
    )
    .unwrap();
    let st = c.stat(f).unwrap();
    assert_eq!(
        (st.st_atime, st.st_atime_nsec, st.st_mtime, st.st_mtime_nsec),
        (1_000_000_000, 5, 1_100_000_000, 7)
    );
    let omit = Timespec {
        tv_sec: 0,
        tv_nsec: libc::UTIME_OMIT,
    };
    let now = Timespec {
        tv_sec: 0,
        tv_nsec: libc::UTIME_NOW,
    };
    c.set_stat(
        f,
        &SetStat {
            mask: SETSTAT_ATIME | SETSTAT_MTIME,
            atime: omit,
            mtime: now,
            ..SetStat::default()
        },
    )
    .unwrap();
    let st = c.stat(f).unwrap();
    assert_eq!(st.st_atime, 1_000_000_000);
    assert!(st.st_mtime > 1_600_000_000);

    // Owner: to ourselves always works; NO_ID leaves it.
    // SAFETY: getuid/getgid cannot fail.
    let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
    c.set_stat(
        f,
        &SetStat {
            mask: SETSTAT_UID | SETSTAT_GID,
            uid,
            gid,
            ..SetStat::default()
        },
    )
    .unwrap();
    c.set_stat(
        f,
        &SetStat {
            mask: SETSTAT_UID,
            uid: NO_ID,
            ..SetStat::default()
        },
    )
    .unwrap();
    assert_eq!(c.stat(f).unwrap().st_uid, uid);

    // Unknown mask bits, sizes of directories, modes of symlinks.
    assert_eq!(
        errno(c.set_stat(
            f,
            &SetStat {
                mask: 1 << 9,
                ..SetStat::default()
            }
        )),
        Errno::EINVAL
    );
    assert_eq!(
        errno(c.set_stat(
            root,
            &SetStat {
                mask: SETSTAT_SIZE,
                ..SetStat::default()
            }
        )),
        Errno::EISDIR
    );
    let l = c.symlink(root, b"l", b"f", NO_ID, NO_ID).unwrap().id;
    assert_eq!(
        errno(c.set_stat(
            l,
            &SetStat {
                mask: SETSTAT_MODE,
                mode: 0o777,
                ..SetStat::default()
            }
        )),
        Errno::EOPNOTSUPP
    );
    // Times of a symlink change the link, not its target.
    let before = fs::metadata(t.path().join("f")).unwrap().mtime();
    c.set_stat(
        l,
        &SetStat {
            mask: SETSTAT_MTIME,
            mtime: Timespec {
                tv_sec: 1234,
                tv_nsec: 0,
            },
            ..SetStat::default()
        },
    )
    .unwrap();
    assert_eq!(
        fs::symlink_metadata(t.path().join("l")).unwrap().mtime(),
        1234
    );
    assert_eq!(fs::metadata(t.path().join("f")).unwrap().mtime(), before);

    let sf = c.statfs(root).unwrap();
    // SAFETY: an all-zero statvfs is valid storage; the path is NUL-terminated.
    let host = unsafe {
        let mut v: libc::statvfs = std::mem::zeroed();
        let p = std::ffi::CString::new(t.path().as_os_str().as_encoded_bytes()).unwrap();
        assert_eq!(libc::statvfs(p.as_ptr(), &mut v), 0);
        v
    };
    assert_eq!(sf.f_bsize, host.f_bsize);
    assert_eq!(sf.f_namelen, host.f_namemax);
    assert_eq!(sf.f_blocks, host.f_blocks);

    c.fsync(f).unwrap();
    c.fsync(root).unwrap();
    s.finish();
}

#[test]
fn getdents_reads_ten_thousand_entries_in_batches() {
    let t = TempDir::new("dents");
    let big = t.path().join("big");
    fs::create_dir(&big).unwrap();
    let mut want = HashSet::new();
    for i in 0..10_000 {
        let name = format!("entry-with-a-longish-name-{i:05}");
        fs::File::create(big.join(&name)).unwrap();
        want.insert(name.into_bytes());
    }
    fs::create_dir(big.join("sub")).unwrap();
    want.insert(b"sub".to_vec());
    let s = Served::rw(t.path());
    let c = s.client();
    let root = c.attach(0).unwrap().id;
    let dir = c.walk(root, &[b"big"]).unwrap().nodes[0].id;

    let mut got = HashSet::new();
    let mut cookie = 0;
    let mut batches = 0;
    loop {
        let ents = c.getdents(dir, cookie).unwrap();
        if ents.is_empty() {
            break;
        }
        batches += 1;
        for e in &ents {
            assert!(e.name != b"." && e.name != b"..");
            let want_type = if e.name == b"sub" {
                libc::DT_DIR
            } else {
                libc::DT_REG
            };
            assert_eq!(e.d_type, want_type);
            assert!(
                got.insert(e.name.clone()),
                "duplicate {:?}",
                String::from_utf8_lossy(&e.name)
            );
        }
        cookie = ents.last().unwrap().next;
        assert!(batches < 1000, "getdents does not end");
    }
    assert_eq!(got.len(), want.len());
    assert_eq!(got, want);
    assert!(
        batches > 1,
        "10,000 entries must take several batches, took {batches}"
    );
    // Reading again from the start works (the cookie is a position, not a cursor).
    assert!(!c.getdents(dir, 0).unwrap().is_empty());
    // An empty directory: no entries at all ("." and ".." are the Sentry's).
    let e = c.mkdir(root, b"empty", 0o755, NO_ID, NO_ID).unwrap().id;
    assert!(c.getdents(e, 0).unwrap().is_empty());
    let f = c
        .open_create(root, b"file", libc::O_RDONLY, 0o644, NO_ID, NO_ID)
        .unwrap()
        .0
        .id;
    assert_eq!(errno(c.getdents(f, 0)), Errno::ENOTDIR);
    s.finish();
}

#[test]
fn read_only_root_refuses_every_change() {
    let t = TempDir::new("ro");
    fs::create_dir(t.path().join("d")).unwrap();
    fs::write(t.path().join("d/f"), b"data").unwrap();
    let s = Served::new(vec![Root::read_only(t.path())]);
    let c = s.client();
    let root = c.attach(0).unwrap().id;
    let w = c.walk(root, &[b"d", b"f"]).unwrap();
    let (d, f) = (w.nodes[0].id, w.nodes[1].id);

    // Reads still work.
    let mut buf = String::new();
    fs::File::from(c.open(f, libc::O_RDONLY).unwrap())
        .read_to_string(&mut buf)
        .unwrap();
    assert_eq!(buf, "data");
    assert_eq!(c.stat(f).unwrap().st_size, 4);
    assert_eq!(c.getdents(d, 0).unwrap().len(), 1);

    let rofs = Errno::EROFS;
    assert_eq!(errno(c.open(f, libc::O_WRONLY)), rofs);
    assert_eq!(errno(c.open(f, libc::O_RDWR)), rofs);
    assert_eq!(errno(c.open(f, libc::O_RDONLY | libc::O_TRUNC)), rofs);
    assert_eq!(
        errno(c.open_create(d, b"n", libc::O_RDWR, 0o644, NO_ID, NO_ID)),
        rofs
    );
    assert_eq!(errno(c.mkdir(d, b"n", 0o755, NO_ID, NO_ID)), rofs);
    assert_eq!(
        errno(c.mknod(d, b"n", libc::S_IFIFO | 0o644, NO_ID, NO_ID)),
        rofs
    );
    assert_eq!(errno(c.symlink(d, b"n", b"f", NO_ID, NO_ID)), rofs);
    assert_eq!(errno(c.link(d, b"n", f)), rofs);
    assert_eq!(errno(c.unlink(d, b"f", 0)), rofs);
    assert_eq!(errno(c.rename(d, b"f", d, b"g", 0)), rofs);
    for mask in [SETSTAT_MODE, SETSTAT_UID, SETSTAT_SIZE, SETSTAT_MTIME] {
        assert_eq!(
            errno(c.set_stat(
                f,
                &SetStat {
                    mask,
                    ..SetStat::default()
                }
            )),
            rofs
        );
    }
    // Nothing changed on the host.
    assert_eq!(fs::read_dir(t.path().join("d")).unwrap().count(), 1);
    assert_eq!(fs::read(t.path().join("d/f")).unwrap(), b"data");
    s.finish();
}

#[test]
fn roots_are_separate() {
    let a = TempDir::new("roota");
    let b = TempDir::new("rootb");
    fs::write(a.path().join("fa"), b"a").unwrap();
    fs::write(b.path().join("fb"), b"b").unwrap();
    let s = Served::new(vec![Root::read_write(a.path()), Root::read_write(b.path())]);
    let c = s.client();
    let ra = c.attach(0).unwrap().id;
    let rb = c.attach(1).unwrap().id;
    assert_eq!(errno(c.attach(2)), Errno::EINVAL);
    let fa = c.walk(ra, &[b"fa"]).unwrap().nodes[0].id;
    assert_eq!(
        c.walk(rb, &[b"fa"]).unwrap().status,
        WalkStatus::Failed(Errno::ENOENT)
    );
    // A hard link or rename across roots is EXDEV, as across mounts.
    assert_eq!(errno(c.link(rb, b"stolen", fa)), Errno::EXDEV);
    assert_eq!(errno(c.rename(ra, b"fa", rb, b"fa", 0)), Errno::EXDEV);
    assert!(!b.path().join("stolen").exists());
    s.finish();
}

#[test]
fn xattrs() {
    let t = TempDir::new("xattr");
    let p = t.path().join("f");
    fs::write(&p, b"x").unwrap();
    let cp = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: path, name and value are valid for the lengths given.
    let r = unsafe {
        libc::setxattr(
            cp.as_ptr(),
            c"user.gofer".as_ptr(),
            b"value!".as_ptr().cast(),
            6,
            0,
        )
    };
    if r != 0 {
        eprintln!(
            "note: skipping xattr checks: {} has no user xattrs",
            t.path().display()
        );
        return;
    }
    let s = Served::rw(t.path());
    let c = s.client();
    let root = c.attach(0).unwrap().id;
    let f = c.walk(root, &[b"f"]).unwrap().nodes[0].id;
    let x = c.get_xattr(f, b"user.gofer", 0).unwrap();
    assert_eq!((x.len, x.data.len()), (6, 0));
    let x = c.get_xattr(f, b"user.gofer", 100).unwrap();
    assert_eq!(x.data, b"value!");
    assert_eq!(errno(c.get_xattr(f, b"user.gofer", 2)), Errno::ERANGE);
    assert_eq!(errno(c.get_xattr(f, b"user.absent", 100)), Errno::ENODATA);
    let l = c.list_xattr(f, 1000).unwrap();
    assert!(
        l.data.split(|&b| b == 0).any(|n| n == b"user.gofer"),
        "{:?}",
        l.data
    );
    assert!(c.list_xattr(f, 0).unwrap().len >= 11);
    s.finish();
}

#[test]
fn client_is_shared_between_threads() {
    let t = TempDir::new("threads");
    fs::write(t.path().join("f"), b"1234").unwrap();
    let s = Served::rw(t.path());
    let c = s.client();
    let root = c.attach(0).unwrap().id;
    let f = c.walk(root, &[b"f"]).unwrap().nodes[0].id;
    std::thread::scope(|sc| {
        for _ in 0..4 {
            sc.spawn(|| {
                for _ in 0..200 {
                    assert_eq!(c.stat(f).unwrap().st_size, 4);
                }
            });
        }
    });
    s.finish();
}

#[test]
fn client_names_are_checked_before_sending() {
    let t = TempDir::new("names");
    let s = Served::rw(t.path());
    let c = s.client();
    let root = c.attach(0).unwrap().id;
    let long = vec![b'a'; 256];
    let e = c.mkdir(root, &long, 0o755, NO_ID, NO_ID).unwrap_err();
    assert_eq!(Errno::from(e), Errno::ENAMETOOLONG);
    // The connection is still usable after a request that could not be encoded.
    c.stat(root).unwrap();
    s.finish();
}
