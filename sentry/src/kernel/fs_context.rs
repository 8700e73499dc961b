//! A task's view of the filesystem: root, working directory and umask, and the helpers every
//! path-taking syscall uses to find its starting point.

use syscalls::Errno;

use super::Task;
use crate::vfs::inode::FileType;
use crate::vfs::mount::VfsPath;
use crate::vfs::resolve::Resolver;

/// Root, cwd and umask (shared by threads with CLONE_FS, once there are threads).
#[derive(Clone)]
pub struct FsContext {
    /// chroot: `..` stops here, absolute paths start here.
    pub root: VfsPath,
    /// The working directory.
    pub cwd: VfsPath,
    /// The file-creation mask.
    pub umask: u32,
}

/// AT_FDCWD.
pub const AT_FDCWD: i32 = -100;

impl Task {
    /// A resolver for this task's namespace and root.
    pub fn resolver(&self) -> Resolver<'_> {
        Resolver { ns: &self.kernel.mounts, root: &self.fs.root }
    }

    /// Where a relative path given with `dirfd` starts: the cwd for AT_FDCWD, else the
    /// directory open at `dirfd` (EBADF if none, ENOTDIR if not a directory).
    pub fn dir_start(&self, dirfd: i32, path: &[u8]) -> Result<VfsPath, Errno> {
        if path.starts_with(b"/") || dirfd == AT_FDCWD {
            return Ok(self.fs.cwd.clone());
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
