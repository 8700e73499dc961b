//! Shared fixtures: a temporary directory tree and a server thread over a socketpair.

#![allow(dead_code)]

use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread::JoinHandle;

use gofer::{serve, socketpair, Client, ClientError, Root, ServeError, Server};
use syscalls::Errno;

/// A directory under std::env::temp_dir(), removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("gofer-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A server thread serving `roots`, and a client connected to it.
pub struct Served {
    client: Option<Client>,
    thread: Option<JoinHandle<Result<(), ServeError>>>,
}

impl Served {
    pub fn new(roots: Vec<Root>) -> Served {
        let (ours, theirs) = socketpair().unwrap();
        let thread = std::thread::spawn(move || serve(theirs, roots));
        Served {
            client: Some(Client::new(ours)),
            thread: Some(thread),
        }
    }

    /// A client of `server` running on its own thread.
    pub fn from_server(server: Server) -> Served {
        let (ours, theirs) = socketpair().unwrap();
        let thread = std::thread::spawn(move || server.run(theirs));
        Served {
            client: Some(Client::new(ours)),
            thread: Some(thread),
        }
    }

    /// A server over one writable root, looking names up with openat2 or with plain openat.
    pub fn rw_with(dir: &Path, openat2: bool) -> Served {
        let server = Server::new(vec![Root::read_write(dir)]).unwrap();
        let server = if openat2 {
            assert!(
                server.uses_openat2(),
                "openat2 is not available on this kernel"
            );
            server
        } else {
            server.without_openat2()
        };
        Served::from_server(server)
    }

    /// A server over one writable root.
    pub fn rw(dir: &Path) -> Served {
        Served::new(vec![Root::read_write(dir)])
    }

    pub fn client(&self) -> &Client {
        self.client.as_ref().unwrap()
    }

    /// Closes the client and waits for the server to finish cleanly.
    pub fn finish(mut self) {
        self.client.take();
        self.thread.take().unwrap().join().unwrap().unwrap();
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.client.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A connected raw socketpair end and a server thread on the other end (for malformed input).
pub fn raw_server(roots: Vec<Root>) -> (OwnedFd, JoinHandle<Result<(), ServeError>>) {
    let (ours, theirs) = socketpair().unwrap();
    (ours, std::thread::spawn(move || serve(theirs, roots)))
}

/// The resolvers to test: plain openat always, openat2 where the kernel has it.
pub fn resolvers(dir: &Path) -> Vec<bool> {
    let mut v = vec![false];
    if Server::new(vec![Root::read_only(dir)])
        .unwrap()
        .uses_openat2()
    {
        v.push(true);
    } else {
        eprintln!("note: openat2 unavailable here; testing the openat fallback only");
    }
    v
}

/// The server's errno out of a client result.
pub fn errno<T: std::fmt::Debug>(r: Result<T, ClientError>) -> Errno {
    match r {
        Err(ClientError::Errno(e)) => e,
        other => panic!("expected an errno from the server, got {other:?}"),
    }
}
