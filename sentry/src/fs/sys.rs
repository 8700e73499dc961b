//! /sys: the little of sysfs programs read to size themselves (the CPUs), fixed at start-up.

use std::sync::Arc;

use syscalls::structs::Stat;
use syscalls::Errno;

use super::copy_to_iov;
use crate::vfs::inode::{DirEntry, FileType, Inode};
use crate::vfs::FileOps;

const SYSFS_DEV: u64 = 0x17;

/// A directory of fixed children, or a file of fixed contents.
pub enum SysNode {
    /// A directory.
    Dir(Vec<(&'static str, Arc<SysNode>)>),
    /// A read-only file.
    File(Vec<u8>),
}

impl SysNode {
    /// /sys with devices/system/cpu/{online,possible,present} for `cpus` CPUs.
    pub fn new_root(cpus: usize) -> Arc<SysNode> {
        let range = format!("0-{}\n", cpus.saturating_sub(1)).into_bytes();
        let range = if cpus <= 1 { b"0\n".to_vec() } else { range };
        let file = |v: &[u8]| Arc::new(SysNode::File(v.to_vec()));
        let cpu = Arc::new(SysNode::Dir(vec![("online", file(&range)), ("possible", file(&range)), ("present", file(&range))]));
        let system = Arc::new(SysNode::Dir(vec![("cpu", cpu)]));
        let devices = Arc::new(SysNode::Dir(vec![("system", system)]));
        Arc::new(SysNode::Dir(vec![("devices", devices)]))
    }

    fn ino(&self) -> u64 {
        (self as *const SysNode as u64) >> 4
    }
}

impl Inode for SysNode {
    fn kind(&self) -> FileType {
        match self {
            SysNode::Dir(_) => FileType::Directory,
            SysNode::File(_) => FileType::Regular,
        }
    }

    fn stat(&self) -> Result<Stat, Errno> {
        let (mode, size) = match self {
            SysNode::Dir(_) => (libc::S_IFDIR | 0o755, 0),
            SysNode::File(_) => (libc::S_IFREG | 0o444, 4096),
        };
        Ok(Stat { st_dev: SYSFS_DEV, st_ino: self.ino(), st_nlink: 1, st_mode: mode, st_size: size, st_blksize: 4096, ..Stat::default() })
    }

    fn open(self: Arc<Self>, _flags: u32) -> Result<Box<dyn FileOps>, Errno> {
        Ok(Box::new(SysFile(self)))
    }

    fn read_only(&self) -> bool {
        true
    }

    fn lookup(&self, name: &[u8]) -> Result<Arc<dyn Inode>, Errno> {
        match self {
            SysNode::Dir(children) => children.iter().find(|(n, _)| n.as_bytes() == name).map(|(_, c)| c.clone() as Arc<dyn Inode>).ok_or(Errno::ENOENT),
            SysNode::File(_) => Err(Errno::ENOTDIR),
        }
    }

    fn readdir(&self) -> Result<Vec<DirEntry>, Errno> {
        match self {
            SysNode::Dir(children) => Ok(children.iter().map(|(n, c)| DirEntry { ino: c.ino(), kind: c.kind(), name: n.as_bytes().to_vec() }).collect()),
            SysNode::File(_) => Err(Errno::ENOTDIR),
        }
    }
}

struct SysFile(Arc<SysNode>);

impl FileOps for SysFile {
    fn read(&self, iov: &[libc::iovec], off: u64) -> Result<usize, Errno> {
        match &*self.0 {
            SysNode::File(data) => Ok(copy_to_iov(data, off, iov)),
            SysNode::Dir(_) => Err(Errno::EISDIR),
        }
    }

    fn write(&self, _: &[libc::iovec], _: u64) -> Result<usize, Errno> {
        Err(Errno::EACCES)
    }

    fn stat(&self) -> Result<Stat, Errno> {
        self.0.stat()
    }
    fn mmap_source(&self) -> crate::vfs::MmapSource<'_> {
        // Generated text has no pages to map (ENODEV, as Linux's seq files and attributes).
        crate::vfs::MmapSource::Unmappable
    }
}
