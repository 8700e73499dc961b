//! Copy-on-write by VMA across fork: a forked child shares its parent's read-only private
//! memory (program text, read-only data, PROT_NONE guards) instead of copying it, and the two
//! stay on one memory-file region until one of them is to write there: mprotect adding write,
//! mremap, madvise, or the Sentry writing past protections. Then that address space takes a
//! copy (or, when nobody else refers to the region any more, the memory itself).
//!
//! Writable private memory is still copied at fork (page-granular copy-on-write needs
//! mappings finer than a VMA's single memory-file range).

use syscalls::Errno;

use super::{Mappings, Vma};

impl Mappings {
    /// Before a fork: every private read-only VMA becomes a region the child can share.
    pub(super) fn share_read_only(&mut self) {
        for v in self.vmas.values_mut() {
            if v.shared.is_none() && v.cow.is_none() && !v.prot.write && !v.dont_fork && !v.wipe_on_fork {
                self.mf.adopt_region(v.offset, v.end - v.start);
                v.cow = Some(v.offset);
            }
        }
    }

    /// Makes every VMA overlapping `[start, end)` that shares memory since a fork this address
    /// space's own. ENOMEM when the memory file is full.
    pub(super) fn unshare_cow(&mut self, start: u64, end: u64) -> Result<(), Errno> {
        // No allocation when no VMA there is copy-on-write (an empty collect allocates nothing).
        let doomed: Vec<Vma> = self.overlaps(start, end).filter(|v| v.cow.is_some()).copied().collect();
        for v in doomed {
            self.take_own(v)?;
        }
        Ok(())
    }

    fn take_own(&mut self, mut v: Vma) -> Result<(), Errno> {
        let Some(region) = v.cow else { return Ok(()) };
        let len = v.end - v.start;
        if !self.mf.take_region(region, v.offset, len) {
            let off = self.mf.copy_new(len, &[(v.offset, 0, len)])?;
            if let Err(e) = self.asp.map(v.start, len, v.prot, off) {
                tracing::error!("mapping a copied VMA {:#x}+{len:#x}: {e}", v.start);
                self.mf.release(off, len);
                return Err(Errno::ENOMEM);
            }
            self.mf.unshare(region);
            v.offset = off;
        }
        v.cow = None;
        self.vmas.insert(v.start, v);
        self.publish();
        Ok(())
    }
}
