//! The real gofer process: `gofer_main` confines itself (seccomp, no_new_privs, a private mount
//! namespace where possible) and still serves every request; a forbidden system call kills it
//! with SIGSYS.
//!
//! The gofer runs in a child: this test binary re-executes itself with `GOFER_TEST_CHILD` set,
//! so only `child_entry` runs there, and it never returns to the test harness.

mod common;

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::fd::{AsRawFd, IntoRawFd, OwnedFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use common::{errno, TempDir};
use gofer::proto::{NO_ID, SETSTAT_ATIME, SETSTAT_MODE, SETSTAT_MTIME, SETSTAT_SIZE, SETSTAT_UID};
use gofer::{gofer_main, socketpair, Client, Root, SetStat, WalkStatus};
use syscalls::structs::Timespec;
use syscalls::Errno;

const CHILD: &str = "GOFER_TEST_CHILD";

/// Runs only in the re-executed child; a no-op in a normal test run.
#[test]
fn child_entry() {
    let Ok(mode) = std::env::var(CHILD) else {
        return;
    };
    let fd: i32 = std::env::var("GOFER_TEST_FD").unwrap().parse().unwrap();
    let root = std::env::var("GOFER_TEST_ROOT").unwrap();
    // A SIGSYS kill would dump core; there is nothing to learn from one here.
    let no_core = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `no_core` is a valid rlimit.
    unsafe { libc::setrlimit(libc::RLIMIT_CORE, &no_core) };
    match mode.as_str() {
        "serve" => {
            // The harness runs tests on a thread; fork so the gofer is a single-threaded
            // process, as it is when the launcher execs it (a mount namespace needs that).
            // SAFETY: the child only calls gofer_main and exits.
            let pid = unsafe { libc::fork() };
            if pid == 0 {
                let code = gofer_main(fd, vec![Root::read_write(&root)]);
                std::process::exit(code);
            }
            // SAFETY: closing our copy of the gofer's socket, which we never use.
            unsafe { libc::close(fd) };
            let _ = writeln!(std::io::stderr(), "gofer-pid={pid}");
            let mut status = 0;
            // SAFETY: `status` is a valid out-pointer.
            unsafe { libc::waitpid(pid, &mut status, 0) };
            let code = if libc::WIFEXITED(status) {
                libc::WEXITSTATUS(status)
            } else {
                128 + libc::WTERMSIG(status)
            };
            std::process::exit(code);
        }
        "seccomp" => {
            if let Err(e) = gofer::confine(vec![Root::read_only(&root)]) {
                let _ = writeln!(std::io::stderr(), "confine failed: {e}");
                std::process::exit(90);
            }
            // Not in the filter: the kernel must kill us here.
            // SAFETY: plain socket(2) call.
            let s = unsafe { libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0) };
            let _ = writeln!(std::io::stderr(), "socket() returned {s} under the filter");
            std::process::exit(91);
        }
        other => panic!("unknown child mode {other}"),
    }
}

fn spawn_child(mode: &str, root: &Path) -> (Child, OwnedFd) {
    let (ours, theirs) = socketpair().unwrap();
    let raw = theirs.as_raw_fd();
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--exact",
        "child_entry",
        "--nocapture",
        "--test-threads=1",
        "-q",
    ])
    .env(CHILD, mode)
    .env("GOFER_TEST_FD", raw.to_string())
    .env("GOFER_TEST_ROOT", root)
    .stdin(Stdio::null())
    .stdout(Stdio::null())
    .stderr(Stdio::piped());
    // SAFETY: the closure runs between fork and exec and only calls fcntl, which is
    // async-signal-safe, to let the child inherit the gofer's end of the socketpair.
    unsafe {
        cmd.pre_exec(move || {
            if libc::fcntl(raw, libc::F_SETFD, 0) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let child = cmd.spawn().unwrap();
    drop(theirs);
    // Never hang the test on a wedged child: a reply that takes 20 s is a failure.
    let tv = libc::timeval {
        tv_sec: 20,
        tv_usec: 0,
    };
    // SAFETY: `tv` is a valid timeval of the size given.
    let r = unsafe {
        libc::setsockopt(
            ours.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            (&tv as *const libc::timeval).cast(),
            std::mem::size_of::<libc::timeval>() as u32,
        )
    };
    assert_eq!(r, 0);
    (child, ours)
}

fn status_field(pid: i32, field: &str) -> Option<String> {
    let s = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find(|l| l.starts_with(field))
        .map(|l| l[field.len()..].trim().to_string())
}

#[test]
fn confined_gofer_serves_every_request() {
    let t = TempDir::new("confined");
    fs::create_dir(t.path().join("d")).unwrap();
    fs::write(t.path().join("d/f"), b"file data").unwrap();
    for i in 0..500 {
        fs::File::create(t.path().join("d").join(format!("n{i:03}"))).unwrap();
    }
    std::os::unix::fs::symlink("/etc/shadow", t.path().join("shadow")).unwrap();
    let (mut child, sock) = spawn_child("serve", t.path());
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    let pid: i32 = line
        .trim()
        .strip_prefix("gofer-pid=")
        .unwrap_or_else(|| panic!("child said {line:?}"))
        .parse()
        .unwrap();

    let c = Client::new(sock);
    let root = c.attach(0).unwrap();
    // Confinement happens before the first reply.
    assert_eq!(
        status_field(pid, "Seccomp:").as_deref(),
        Some("2"),
        "the gofer runs under a seccomp filter"
    );
    assert_eq!(status_field(pid, "NoNewPrivs:").as_deref(), Some("1"));
    let our_ns = fs::read_link("/proc/self/ns/mnt").unwrap();
    match fs::read_link(format!("/proc/{pid}/ns/mnt")) {
        Ok(ns) if ns != our_ns => {
            // Its root is an empty tmpfs: the only mount it can see is that one.
            let mounts = fs::read_to_string(format!("/proc/{pid}/mountinfo")).unwrap();
            assert_eq!(
                mounts.lines().count(),
                1,
                "the gofer sees host mounts: {mounts}"
            );
            assert!(mounts.contains(" - tmpfs "), "{mounts}");
        }
        _ => eprintln!(
            "note: the gofer did not enter a private mount namespace here (no CAP_SYS_ADMIN?)"
        ),
    }

    let root = root.id;
    let w = c.walk(root, &[b"d", b"f"]).unwrap();
    assert_eq!(w.status, WalkStatus::Complete);
    let (d, f) = (w.nodes[0].id, w.nodes[1].id);
    assert_eq!(
        c.walk_stat(root, &[b"d", b"missing"]).unwrap().status,
        WalkStatus::Failed(Errno::ENOENT)
    );
    let mut s = String::new();
    fs::File::from(c.open(f, libc::O_RDONLY).unwrap())
        .read_to_string(&mut s)
        .unwrap();
    assert_eq!(s, "file data");
    let link = c.walk(root, &[b"shadow"]).unwrap().nodes[0].id;
    assert_eq!(c.readlink(link).unwrap(), b"/etc/shadow");
    assert_eq!(errno(c.open(link, libc::O_RDONLY)), Errno::ELOOP);

    let (n, fd) = c
        .open_create(d, b"new", libc::O_WRONLY, 0o644, NO_ID, NO_ID)
        .unwrap();
    fs::File::from(fd).write_all(b"new data").unwrap();
    assert_eq!(fs::read(t.path().join("d/new")).unwrap(), b"new data");
    let sub = c.mkdir(d, b"sub", 0o755, 0, 0).unwrap().id;
    c.mknod(sub, b"fifo", libc::S_IFIFO | 0o600, NO_ID, NO_ID)
        .unwrap();
    c.symlink(sub, b"sym", b"../new", NO_ID, NO_ID).unwrap();
    c.link(sub, b"hard", n.id).unwrap();
    c.rename(sub, b"hard", d, b"hard2", 0).unwrap();
    c.unlink(d, b"hard2", 0).unwrap();
    // SAFETY: getuid cannot fail.
    let uid = unsafe { libc::getuid() };
    let ts = Timespec {
        tv_sec: 1_500_000_000,
        tv_nsec: 0,
    };
    c.set_stat(
        n.id,
        &SetStat {
            mask: SETSTAT_MODE | SETSTAT_UID | SETSTAT_SIZE | SETSTAT_ATIME | SETSTAT_MTIME,
            mode: 0o600,
            uid,
            size: 3,
            atime: ts,
            mtime: ts,
            ..SetStat::default()
        },
    )
    .unwrap();
    let st = c.stat(n.id).unwrap();
    assert_eq!(
        (st.st_size, st.st_mode & 0o7777, st.st_mtime),
        (3, 0o600, 1_500_000_000)
    );
    assert!(c.statfs(root).unwrap().f_bsize > 0);
    c.fsync(n.id).unwrap();
    c.fsync(d).unwrap();
    let _ = c.get_xattr(f, b"user.none", 64);
    c.list_xattr(f, 1024).unwrap();
    c.list_xattr(f, 0).unwrap();

    // Enough entries for several getdents calls and growing buffers.
    let mut count = 0;
    let mut cookie = 0;
    loop {
        let ents = c.getdents(d, cookie).unwrap();
        let Some(last) = ents.last() else { break };
        cookie = last.next;
        count += ents.len();
    }
    assert_eq!(count, 500 + 3); // n000..n499, f, new, sub

    for name in [&b"fifo"[..], b"sym"] {
        c.unlink(sub, name, 0).unwrap();
    }
    c.unlink(d, b"sub", libc::AT_REMOVEDIR).unwrap();
    c.close(&[d, f, link, n.id]).unwrap();
    assert_eq!(errno(c.stat(f)), Errno::EBADF);

    // Closing our end ends the gofer cleanly.
    drop(c);
    let status = child.wait().unwrap();
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    assert!(
        status.success(),
        "gofer ended with {status:?}; stderr: {rest}"
    );
}

#[test]
fn forbidden_syscall_kills_the_gofer_with_sigsys() {
    let t = TempDir::new("sigsys");
    let (mut child, _sock) = spawn_child("seccomp", t.path());
    let status = child.wait().unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert_eq!(
        status.signal(),
        Some(libc::SIGSYS),
        "child ended with {status:?}; stderr: {err}"
    );
}

#[test]
fn gofer_main_reports_bad_arguments_in_one_line() {
    // Not a socket: refused before anything else happens.
    let null = fs::File::open("/dev/null").unwrap();
    assert_eq!(
        gofer_main(null.as_raw_fd(), vec![]),
        gofer::spawn::EXIT_USAGE
    );
    assert_eq!(gofer_main(-1, vec![]), gofer::spawn::EXIT_USAGE);
    // A root that does not exist: refused before confinement (so this process is untouched).
    let (_ours, theirs) = socketpair().unwrap();
    let code = gofer_main(
        theirs.into_raw_fd(),
        vec![Root::read_only("/nonexistent/gofer-root")],
    );
    assert_eq!(code, gofer::spawn::EXIT_CONFINE);
}
