//! MAP_SHARED file mappings: an address space's windows of an in-memory file's pages.
//!
//! A file's pages are extents in the memory file ([`super::file_pages`]); a shared mapping of
//! `[off, off+len)` of it is one VMA per extent the range crosses, consecutive in the address
//! space, each a window of its extent's region holding a reference to it (so fork, split,
//! mremap and munmap count it as they do any shared memory). `VmaKind::SharedFile` marks them;
//! its `may_write` is Linux's VM_MAYWRITE: a mapping of a descriptor not open for writing can
//! never be made writable (mprotect gives EACCES).
//!
//! This module owns only the mapping step; the file layout is `file_pages`'s, the VMA tree
//! the memory manager's.

use platform::Prot;
use syscalls::Errno;

use super::file_pages::Window;
use super::{page_down, Backing, MemoryManager, Vma, VmaKind};

impl Vma {
    /// Whether the VMA may be made writable (VM_MAYWRITE): all memory but a shared file
    /// mapping of a descriptor that was not open for writing.
    pub fn may_write(&self) -> bool {
        !matches!(self.kind, VmaKind::SharedFile { may_write: false })
    }
}

impl MemoryManager {
    /// Maps `windows` (contiguous in the file, `len` bytes in all) as consecutive VMAs of
    /// `kind`: at `addr` if `fixed` (replacing what is there), else at the hint `addr` if it is
    /// free, else where mmap puts things. Each VMA takes its own reference to its window's
    /// region. Returns the address.
    pub fn map_windows(&mut self, addr: u64, len: u64, prot: Prot, fixed: bool, kind: VmaKind, windows: &[Window]) -> Result<u64, Errno> {
        if len == 0 || windows.iter().map(|w| w.len).sum::<u64>() != len {
            return Err(Errno::EINVAL);
        }
        let start = if fixed {
            self.check_range(addr, len)?;
            addr
        } else {
            let hint = page_down(addr);
            match hint.checked_add(len) {
                Some(end) if hint != 0 && self.is_free(hint, end) => hint,
                _ => self.find_free(len)?,
            }
        };
        let mut at = start;
        for w in windows {
            if let Err(e) = self.map_memory(at, w.len, prot, true, kind, Backing::Window { region: w.region, offset: w.offset }) {
                // What was mapped goes again (a MAP_FIXED mapping's old pages are gone, as
                // when Linux fails after unmapping them).
                if at > start {
                    let _ = self.unmap(start, at - start);
                }
                return Err(e);
            }
            at += w.len;
        }
        Ok(start)
    }
}
