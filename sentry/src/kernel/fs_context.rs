//! A task's view of the filesystem: root, working directory and umask, and the helpers every
//! path-taking syscall uses to find its starting point.

use std::sync::{Arc, Mutex};

use syscalls::Errno;

use super::Task;
use crate::vfs::inode::FileType;
use crate::vfs::mount::VfsPath;
use crate::vfs::resolve::Resolver;

/// Root, cwd and umask. Cloning shares them (CLONE_FS, and /proc/<pid>/cwd reads them).
#[derive(Clone)]
pub struct FsContext {
    inner: Arc<Mutex<FsState>>,
}

struct FsState {
    /// chroot: `..` stops here, absolute paths start here.
    root: VfsPath,
    /// The working directory.
    cwd: VfsPath,
    /// The file-creation mask.
    umask: u32,
}

impl FsContext {
    /// A context rooted at `root`, in `cwd`.
    pub fn new(root: VfsPath, cwd: VfsPath, umask: u32) -> FsContext {
        FsContext { inner: Arc::new(Mutex::new(FsState { root, cwd, umask })) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, FsState> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A separate copy for a new process (fork without CLONE_FS).
    pub fn fork(&self) -> FsContext {
        let s = self.lock();
        FsContext::new(s.root.clone(), s.cwd.clone(), s.umask)
    }

    /// The root.
    pub fn root(&self) -> VfsPath {
        self.lock().root.clone()
    }

    /// The working directory.
    pub fn cwd(&self) -> VfsPath {
        self.lock().cwd.clone()
    }

    /// chdir.
    pub fn set_cwd(&self, p: VfsPath) {
        self.lock().cwd = p;
    }

    /// The umask.
    pub fn umask(&self) -> u32 {
        self.lock().umask
    }

    /// umask(2): sets it, returns the old one.
    pub fn swap_umask(&self, m: u32) -> u32 {
        std::mem::replace(&mut self.lock().umask, m)
    }
}

/// AT_FDCWD.
pub const AT_FDCWD: i32 = -100;

impl Task {
    /// A resolver for this task's namespace and root.
    pub fn resolver(&self) -> Resolver<'_> {
        Resolver { ns: &self.kernel.mounts, root: self.fs.root() }
    }

    /// Where a relative path given with `dirfd` starts: the cwd for AT_FDCWD, else the
    /// directory open at `dirfd` (EBADF if none, ENOTDIR if not a directory).
    pub fn dir_start(&self, dirfd: i32, path: &[u8]) -> Result<VfsPath, Errno> {
        if path.starts_with(b"/") || dirfd == AT_FDCWD {
            return Ok(self.fs.cwd());
        }
        let f = self.fds.get(dirfd)?;
        let p = f.path.clone().ok_or(Errno::ENOTDIR)?;
        if p.dentry.inode.kind() != FileType::Directory {
            return Err(Errno::ENOTDIR);
        }
        Ok(p)
    }

    /// Resolves `path` relative to `dirfd`.
    pub fn lookup_at(&self, dirfd: i32, path: &[u8], follow: bool) -> Result<VfsPath, Errno> {
        let start = self.dir_start(dirfd, path)?;
        self.resolver().resolve(&start, path, follow)
    }

    /// Resolves all but the last component of `path` relative to `dirfd`.
    pub fn lookup_parent_at(&self, dirfd: i32, path: &[u8]) -> Result<(VfsPath, Vec<u8>, bool), Errno> {
        let start = self.dir_start(dirfd, path)?;
        self.resolver().resolve_parent(&start, path)
    }

    /// Reads a path argument: EFAULT, ENAMETOOLONG (PATH_MAX), ENOENT if empty.
    pub fn path_arg(&self, addr: u64) -> Result<Vec<u8>, Errno> {
        let p = self.mm.copy_in_cstr(addr, crate::syscalls::PATH_MAX)?;
        if p.is_empty() {
            return Err(Errno::ENOENT);
        }
        Ok(p)
    }
}
