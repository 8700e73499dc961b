//! Syscall-site patching: after a system call trapped the slow way, the Sentry rewrites its
//! site in the guest's code so that later executions take the platform's fast path, without a
//! signal (the bytes are `platform::patch`'s, the path `platform::systrap`'s).
//!
//! This module owns, in each address space, the table of per-site entries (a private r-x
//! mapping of 64 KiB at the first free address `platform::patch::table_candidates` gives,
//! made on first use; fork copies it with the rest, exec drops it) and the rules for when a
//! site may be rewritten. It writes guest memory only through the address space's Mappings and
//! changes no mapping but its table's. A patched call reaches the Sentry as an ordinary
//! `Event::Syscall` of the thread that made it: dispatch, policy, strace and audit see no
//! difference.
//!
//! A site is rewritten only when
//! - its seven bytes are a load the entry can re-run and `syscall` (`patch::decode_site`), the
//!   call that just trapped being that `syscall`;
//! - it lies in one private, executable, non-writable mapping: never shared memory (another
//!   process would jump into a table it does not have), never writable code (a JIT could be
//!   rewriting it meanwhile), never the table itself;
//! - writing costs no copy: memory a fork or the page cache still shares with another address
//!   space is left for later (see `mm::cow`), so a short-lived process never copies its text;
//!   once a thread has met [`COPY_AFTER`] such sites, the process is busy enough with system
//!   calls for its own copy of the text to pay, and the sites are rewritten.
//!
//! What cannot be proven: that no jump lands on the `syscall` itself, skipping the load (the
//! five bytes before it might also be the tail of a longer instruction). Compilers emit the
//! pair as one unit, and gVisor's rule of thumb is the same. Such a jump meets the invalid
//! byte 0x06 at the patched site's +5 and raises SIGILL; the Sentry then serves the system
//! call that `syscall` would have made, with the registers as they are (so the load is not
//! re-run: a jump with another number in rax gets that call, as natively). A thread that ran
//! the old load just before another thread rewrote the site takes the same way. A guest that
//! reads its own code sees the patch.
//!
//! The guest's GS base. The entries find the stub thread's slot through GS, which the
//! platform points at the slot while the guest has no GS base of its own (arch_prctl's
//! ARCH_GET_GS still reads the guest's value, 0, from the Sentry's registers; only `rdgsbase`
//! would see the slot). Once the guest sets one (ARCH_SET_GS, or `wrgsbase` behind the
//! Sentry's back), its entries' check of the platform's cookie at a fixed offset from GS fails
//! (or faults on unmapped memory, which `fault` turns into the same) and every patched call
//! takes the slow way, an ordinary trapped `syscall` in the entry: the guest keeps its GS and
//! its calls, without the fast path, until it sets GS back to 0. A signal handler that changes
//! GS and returns between the check and its use would defeat it: `before_frame` makes a
//! handler frame record the check again instead.
//!
//! Fork: the child gets copies of the patched code and of the table (private memory, shared
//! copy-on-write until written); the entries hold the trampoline's address and the cookie,
//! the same in every stub of the platform, and reach the child's own slot through its GS, so
//! they work there unchanged. Text a fork still shares is never rewritten (see above); a table
//! still shared becomes this process's own copy (64 KiB) when it gets a new entry.
//!
//! Exec: the address space is emptied, table included, and the new image is unpatched; the
//! next trap makes a new table.
//!
//! Removing the table (munmap, mmap MAP_FIXED or mprotect over 0xNN06xxxx by the guest) is not
//! prevented: the patched sites would then jump to nothing and fault. Programs do not map
//! there unasked; the table takes the first free candidate after the image is loaded.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Weak};

use platform::patch::{self, FastPath, Site, ENTRY_SIZE, SITE_LEN, TABLE_SIZE};
use platform::{FaultInfo, Prot};

use super::Task;
use crate::mm::{Mappings, MemoryManager, Vma, VmaKind};

/// The table's first 16 bytes: this magic, then the index of the next free entry (u32).
const MAGIC: u64 = u64::from_le_bytes(*b"sbxtrap1");
/// Entries a table holds; entry 0 is the header.
const ENTRIES: u64 = TABLE_SIZE / ENTRY_SIZE;
/// Sites a thread remembers as not worth another look.
const SKIP_LEN: usize = 64;
/// Traps at sites in shared text after which a thread's process takes its own copy of the
/// text to patch it.
const COPY_AFTER: u32 = 256;

/// One thread's memory of its address space: where its table is, and sites that cannot be
/// patched (so a hot unpatchable site costs no lock).
struct Cache {
    /// Held so that the address space's allocation (compared by address) is not reused.
    mm: Weak<MemoryManager>,
    table: Option<u64>,
    /// Sites never to patch.
    skip: Ring,
    /// Sites that trapped once: a site is rewritten when it traps again, so code that runs
    /// once (a program's start, a short-lived process) pays no patching.
    seen: Ring,
    /// Traps at sites left for later because their text is shared.
    later: u32,
}

/// The last SKIP_LEN site addresses noted.
struct Ring {
    sites: [u64; SKIP_LEN],
    next: usize,
}

impl Ring {
    const EMPTY: Ring = Ring { sites: [u64::MAX; SKIP_LEN], next: 0 };

    fn contains(&self, site: u64) -> bool {
        self.sites.contains(&site)
    }

    fn push(&mut self, site: u64) {
        self.sites[self.next] = site;
        self.next = (self.next + 1) % SKIP_LEN;
    }
}

thread_local! {
    /// Each task runs on a host thread of its own: this is that task's cache.
    static CACHE: RefCell<Option<Cache>> = const { RefCell::new(None) };
}

fn with_cache<R>(mm: &Arc<MemoryManager>, f: impl FnOnce(&mut Cache) -> R) -> R {
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        let stale = c.as_ref().is_none_or(|c| c.mm.as_ptr() != Arc::as_ptr(mm));
        if stale {
            *c = Some(Cache { mm: Arc::downgrade(mm), table: None, skip: Ring::EMPTY, seen: Ring::EMPTY, later: 0 });
        }
        // The cache was just filled if it was empty.
        f(c.as_mut().expect("cache"))
    })
}

/// What became of a site.
enum Outcome {
    /// Rewritten (or found rewritten by another thread).
    Done,
    /// Not now: its memory is shared since a fork.
    Later,
    /// Never: not a site, or no room.
    Never,
}

/// Called for every system call that trapped the slow way, before it is served: rewrites its
/// site when the rules above allow.
pub fn after_trap(t: &Task) {
    if !t.ctx.syscall_trapped() {
        return;
    }
    let Some(fp) = t.kernel.platform.fast_path() else { return };
    let Some(site) = t.regs.ip().checked_sub(SITE_LEN as u64) else { return };
    let nr = t.regs.syscall_nr();
    with_cache(&t.mm, |c| {
        if c.skip.contains(site) {
            return;
        }
        if !c.seen.contains(site) {
            c.seen.push(site);
            return;
        }
        let may_copy = c.later >= COPY_AFTER;
        match t.mm.with(|m| patch_site(m, &mut c.table, &fp, site, nr, may_copy)) {
            Outcome::Done => tracing::debug!(site = format_args!("{site:#x}"), nr, "patched a syscall site"),
            Outcome::Later => c.later += 1,
            Outcome::Never => c.skip.push(site),
        }
    });
}

/// What a guest fault means once patching had its say.
pub enum Fault {
    /// An ordinary fault, to report (its rip may have moved from an entry back to the site it
    /// stands for).
    Report(FaultInfo),
    /// Patching's own business: the guest resumes where the registers now say.
    Resume,
    /// A `syscall` the patch displaced was reached: the registers now stand as after that
    /// `syscall` trapped, for the caller to serve.
    Syscall,
}

/// Before a fault is reported: faults that patching causes are its own business.
pub fn fault(t: &mut Task, f: FaultInfo) -> Fault {
    if t.kernel.platform.fast_path().is_none() {
        return Fault::Report(f);
    }
    let rip = t.regs.ip();
    match f.signo {
        libc::SIGILL => {
            // Under the address space's lock: a rewrite in progress has finished.
            let (at_rip, before) = t.mm.with(|m| (is_patch_at(m, rip), rip.checked_sub(5).is_some_and(|s| is_patch_at(m, s))));
            // The patch's first byte is made invalid while the rest is written: a thread that
            // met it runs the site again, now rewritten.
            if at_rip {
                tracing::debug!(site = format_args!("{rip:#x}"), "a thread met a site being rewritten: run it again");
                return Fault::Resume;
            }
            // The invalid byte where `syscall` was: a jump past the load, or a thread that ran
            // the old load just before the site was rewritten. Either way the guest was about
            // to make the call with its registers as they are: the call is made, as by a
            // `syscall` there (rcx and r11 as the instruction sets them).
            if before {
                tracing::debug!(site = format_args!("{:#x}", rip - 5), "the syscall of a rewritten site reached: served as it is");
                let r = &mut t.regs.0;
                r.rip = rip + 2;
                r.rcx = r.rip;
                r.r11 = r.eflags;
                r.orig_rax = r.rax as u32 as u64;
                r.rax = -i64::from(libc::ENOSYS) as u64;
                return Fault::Syscall;
            }
        }
        libc::SIGSEGV | libc::SIGBUS if patch::in_table_window(rip) => {
            let Some((_, entry)) = t.mm.with(|m| entry_at(m, rip)) else {
                return Fault::Report(f);
            };
            match rip - entry {
                // The GS probe: the guest's own GS base points at nothing. Take the slow path.
                patch::ENTRY_PROBE => {
                    tracing::debug!(entry = format_args!("{entry:#x}"), "no memory at the guest's GS base: the slow path");
                    t.regs.0.rip = entry + patch::ENTRY_SYSCALL;
                    return Fault::Resume;
                }
                // The displaced load faulted: report it where the guest has it.
                patch::ENTRY_DISPLACED => {
                    let mut ret = [0u8; 8];
                    if t.mm.copy_in(entry + patch::ENTRY_RET, &mut ret).is_ok() {
                        t.regs.0.rip = u64::from_le_bytes(ret).wrapping_sub(SITE_LEN as u64);
                    }
                }
                _ => {}
            }
        }
        _ => {}
    }
    Fault::Report(f)
}

/// Before a signal handler's frame records the guest's rip: a thread stopped between an
/// entry's GS check and the jump that trusts it goes back to the check, so that a handler
/// changing the GS base cannot send it into the fast path with a GS that is not its slot.
pub fn before_frame(t: &mut Task) {
    let rip = t.regs.ip();
    if !patch::in_table_window(rip) || t.kernel.platform.fast_path().is_none() {
        return;
    }
    let Some((table, entry)) = t.mm.with(|m| entry_at(m, rip)) else { return };
    if entry != table && patch::in_gs_window(rip - entry) {
        t.regs.0.rip = entry + patch::ENTRY_PROBE;
    }
}

/// Whether the seven bytes at `addr` are a patch jumping into this address space's table.
fn is_patch_at(m: &Mappings, addr: u64) -> bool {
    let mut b = [0u8; SITE_LEN];
    m.copy_in(addr, &mut b).is_ok() && patch::patched_entry(&b).is_some_and(|e| table_at(m, e).is_some())
}

/// The table holding `addr` and the start of the entry `addr` is in.
fn entry_at(m: &Mappings, addr: u64) -> Option<(u64, u64)> {
    table_at(m, addr).map(|table| (table, table + (addr - table) / ENTRY_SIZE * ENTRY_SIZE))
}

/// The table containing `addr`, if there is one there.
fn table_at(m: &Mappings, addr: u64) -> Option<u64> {
    let start = addr & !(TABLE_SIZE - 1);
    if !patch::in_table_window(start) {
        return None;
    }
    let v = m.find(start)?;
    let mut magic = [0u8; 8];
    let ours = v.start == start && v.end == start + TABLE_SIZE && v.prot.exec && !v.prot.write && v.shared.is_none();
    (ours && m.copy_in(start, &mut magic).is_ok() && u64::from_le_bytes(magic) == MAGIC).then_some(start)
}

/// Whether writing into `v` costs no copy of it: it is not shared with another address space
/// since a fork (or this one is the last holder).
fn own(m: &Mappings, v: &Vma) -> bool {
    v.cow.is_none_or(|region| m.memory_file().share_count(region) == Some(1))
}

/// The address space's table: the one `cached` names or another found among the candidates,
/// else a new one at the first free candidate.
fn find_or_make_table(m: &mut Mappings, cached: &mut Option<u64>) -> Option<u64> {
    if let Some(t) = cached.filter(|&t| table_at(m, t).is_some()) {
        return Some(t);
    }
    let user = m.user_range();
    let found = patch::table_candidates().find(|&t| table_at(m, t).is_some()).or_else(|| {
        let free = |t: u64| user.start <= t && t + TABLE_SIZE <= user.end && !m.vmas().any(|v| v.start < t + TABLE_SIZE && v.end > t);
        let t = patch::table_candidates().find(|&t| free(t))?;
        let rx = Prot { read: true, write: false, exec: true };
        m.map_anon(t, TABLE_SIZE, rx, true, VmaKind::Anon).ok()?;
        let mut header = [0u8; 16];
        header[..8].copy_from_slice(&MAGIC.to_le_bytes());
        header[8..12].copy_from_slice(&1u32.to_le_bytes());
        if m.copy_out_force(t, &header).is_err() {
            let _ = m.unmap(t, TABLE_SIZE);
            return None;
        }
        Some(t)
    });
    *cached = found;
    found
}

/// Rewrites `site` when the rules allow; with `may_copy`, text shared with another address
/// space is first copied (by the write itself).
fn patch_site(m: &mut Mappings, cached: &mut Option<u64>, fp: &FastPath, site: u64, nr: u64, may_copy: bool) -> Outcome {
    let mut old = [0u8; SITE_LEN];
    if m.copy_in(site, &mut old).is_err() {
        return Outcome::Never;
    }
    let Some(s) = patch::decode_site(&old, site, nr) else { return Outcome::Never };
    let Some(v) = m.find(site).copied() else { return Outcome::Never };
    if site + SITE_LEN as u64 > v.end || !v.prot.exec || v.prot.write || v.shared.is_some() || table_at(m, site).is_some() {
        return Outcome::Never;
    }
    if !may_copy && !own(m, &v) {
        return Outcome::Later;
    }
    if !s.load_is_immediate() && (site % 16) as usize + 5 > 16 {
        // See `rewrite`: a memory load torn across two fetch blocks could run as another
        // instruction.
        return Outcome::Never;
    }
    // A table still shared since a fork becomes this address space's own copy when written.
    let Some(table) = find_or_make_table(m, cached) else { return Outcome::Never };
    let mut next = [0u8; 4];
    if m.copy_in(table + 8, &mut next).is_err() {
        return Outcome::Never;
    }
    let index = u64::from(u32::from_le_bytes(next));
    if index == 0 || index >= ENTRIES {
        return Outcome::Never;
    }
    let entry = table + index * ENTRY_SIZE;
    let written = m.copy_out_force(entry, &fp.entry(entry, &s)).is_ok()
        && m.copy_out_force(table + 8, &(index as u32 + 1).to_le_bytes()).is_ok()
        && rewrite(m, &s, &old, &patch::patch_bytes(entry));
    if written {
        Outcome::Done
    } else {
        Outcome::Never
    }
}

/// Replaces the site's bytes `old` with `new` while other threads may be running them. Each
/// of them must fetch either instruction sequence whole, or an invalid byte that brings it to
/// the Sentry (see `fault`). The assumption, as for any cross-modified code on x86: an
/// instruction fetch reads an aligned 16-byte block at once, seeing a locked or aligned store
/// inside it whole, and sees stores in the order they were made.
/// - The seven bytes in one aligned 8-byte word: one compare-and-swap of the word.
/// - In one aligned 16-byte block: one 16-byte compare-and-swap (cmpxchg16b).
/// - Across two blocks: byte by byte, in an order that keeps every mix of old and new bytes
///   harmless. The first byte becomes the invalid 0x06, so a thread that fetches it faults
///   and runs the finished site again; then the byte at +5 (0x06 in the patch too), so that
///   a thread that ran the old load and meets any new byte after it faults where `syscall`
///   was; then the others in address order, and the first byte last. A thread that fetched
///   the old first byte before the change may still meet new bytes in the second block: an
///   immediate load stays a load of its register whatever its immediate (and the entry loads
///   it again), but a memory load's ModRM or displacement must not change under it, which is
///   why `patch_site` leaves memory loads whose first five bytes straddle two blocks alone.
fn rewrite(m: &mut Mappings, s: &Site, old: &[u8; SITE_LEN], new: &[u8; SITE_LEN]) -> bool {
    // Writing the bytes already there makes the memory this address space's own (no copy:
    // patch_site checked), so the stores below reach only its code.
    let mut cur = [0u8; SITE_LEN];
    if m.copy_in(s.addr, &mut cur).is_err() || cur != *old || m.copy_out_force(s.addr, &cur).is_err() {
        return false;
    }
    let Some(v) = m.find(s.addr) else { return false };
    let p = m.memory_file().ptr(v.offset + (s.addr - v.start));
    let lead = (s.addr % 8) as usize;
    if lead + SITE_LEN <= 8 {
        // SAFETY: the aligned word holding the site lies in the site's page, in the memory
        // file's mapping (which lives as long as the Sentry); other threads touch guest memory
        // only through atomics or their own guest instructions.
        let word = unsafe { AtomicU64::from_ptr(p.sub(lead).cast::<u64>()) };
        let cur = word.load(Ordering::Acquire);
        let mut was = cur.to_le_bytes();
        if was[lead..lead + SITE_LEN] != old[..] {
            return false;
        }
        was[lead..lead + SITE_LEN].copy_from_slice(new);
        return word.compare_exchange(cur, u64::from_le_bytes(was), Ordering::AcqRel, Ordering::Acquire).is_ok();
    }
    let lead = (s.addr % 16) as usize;
    if lead + SITE_LEN <= 16 && std::arch::is_x86_feature_detected!("cmpxchg16b") {
        // SAFETY: as above, for the aligned 16-byte block holding the site (16-byte blocks
        // never cross a page); cmpxchg16b is available (checked).
        let block = unsafe { p.sub(lead) };
        // SAFETY: as above; a torn read is caught by the compare-and-swap below.
        let cur = unsafe { std::ptr::read_volatile(block.cast::<[u8; 16]>()) };
        if cur[lead..lead + SITE_LEN] != old[..] {
            return false;
        }
        let mut now = cur;
        now[lead..lead + SITE_LEN].copy_from_slice(new);
        // SAFETY: as above.
        return unsafe { cas16(block, u128::from_le_bytes(cur), u128::from_le_bytes(now)) };
    }
    let byte = |i: usize| {
        // SAFETY: i < 7 and the site's seven bytes lie in one VMA, contiguous in the memory
        // file; byte-sized atomics have no alignment requirement.
        unsafe { AtomicU8::from_ptr(p.add(i)) }
    };
    if (0..SITE_LEN).any(|i| byte(i).load(Ordering::Acquire) != old[i]) {
        return false;
    }
    byte(0).store(patch::FAULT_BYTE, Ordering::Release);
    byte(5).store(new[5], Ordering::Release);
    for i in [1, 2, 3, 4, 6] {
        byte(i).store(new[i], Ordering::Release);
    }
    byte(0).store(new[0], Ordering::Release);
    true
}

/// `lock cmpxchg16b` of the 16 bytes at `p`: true when they were `old` and are now `new`.
///
/// # Safety
/// `p` is 16-byte aligned, valid for reads and writes of 16 bytes, and the CPU has cmpxchg16b.
unsafe fn cas16(p: *mut u8, old: u128, new: u128) -> bool {
    let ok: u8;
    // SAFETY: the caller's promise. rbx is LLVM's: the new low word goes in through another
    // register and rbx is restored before the block ends; xchg and mov keep the flags.
    unsafe {
        std::arch::asm!(
            "xchg {lo}, rbx",
            "lock cmpxchg16b [{p}]",
            "sete {ok}",
            "mov rbx, {lo}",
            p = in(reg) p,
            lo = inout(reg) new as u64 => _,
            ok = out(reg_byte) ok,
            in("rcx") (new >> 64) as u64,
            inout("rax") old as u64 => _,
            inout("rdx") (old >> 64) as u64 => _,
            options(nostack),
        );
    }
    ok != 0
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::mm::MemoryFile;

    use crate::mm::tests::FakeAs;

    const TEXT: u64 = 0x40_0000;
    const FP: FastPath = FastPath { trampoline: 0x7fff_fefe_0110, cookie: 0x0123_4567_89ab_cdef, cookie_offset: 184 };

    /// An address space with one r-x page of int3 holding `code` at `at`.
    fn text_with(code: &[u8], at: u64) -> MemoryManager {
        let mf = Arc::new(MemoryFile::new(1 << 26).unwrap());
        let mm = MemoryManager::new(mf, Box::new(FakeAs), 0x10000..0x1000_0000);
        mm.map_anon(TEXT, 0x1000, Prot { read: true, write: false, exec: true }, true, VmaKind::Image).unwrap();
        mm.copy_out_force(TEXT, &[0xcc; 0x1000]).unwrap();
        mm.copy_out_force(at, code).unwrap();
        mm
    }

    fn bytes(mm: &MemoryManager, at: u64, n: usize) -> Vec<u8> {
        let mut b = vec![0u8; n];
        mm.copy_in(at, &mut b).unwrap();
        b
    }

    #[test]
    fn sites_are_rewritten_at_every_alignment_and_nothing_else_changes() {
        const SITE: [u8; 7] = [0xb8, 39, 0, 0, 0, 0x0f, 0x05];
        for lead in 0..32u64 {
            let site = TEXT + 0x100 + lead;
            let mm = text_with(&SITE, site);
            let mut table = None;
            let done = mm.with(|m| matches!(patch_site(m, &mut table, &FP, site, 39, false), Outcome::Done));
            assert!(done, "lead {lead}");
            let table = table.expect("a table");
            assert!(patch::in_table_window(table));
            let entry = table + ENTRY_SIZE;
            assert_eq!(bytes(&mm, site, SITE_LEN), patch::patch_bytes(entry), "lead {lead}");
            assert_eq!(bytes(&mm, site - 16, 16), vec![0xcc; 16], "lead {lead}: bytes before");
            assert_eq!(bytes(&mm, site + 7, 16), vec![0xcc; 16], "lead {lead}: bytes after");
            let s = patch::decode_site(&SITE, site, 39).unwrap();
            assert_eq!(bytes(&mm, entry, ENTRY_SIZE as usize), FP.entry(entry, &s).to_vec());
            // Once rewritten, the site is no site any more.
            assert!(mm.with(|m| matches!(patch_site(m, &mut Some(table), &FP, site, 39, false), Outcome::Never)));
            assert!(mm.with(|m| is_patch_at(m, site)));
        }
    }

    #[test]
    fn memory_loads_across_fetch_blocks_are_left_alone() {
        // mov 0x8(%rsp),%r9; syscall (glibc's syscall(2))
        const SITE: [u8; 7] = [0x4c, 0x8b, 0x4c, 0x24, 0x08, 0x0f, 0x05];
        for lead in 0..16u64 {
            let site = TEXT + 0x200 + lead;
            let mm = text_with(&SITE, site);
            let outcome = mm.with(|m| patch_site(m, &mut None, &FP, site, 110, false));
            if lead + 5 > 16 {
                assert!(matches!(outcome, Outcome::Never), "lead {lead}");
                assert_eq!(bytes(&mm, site, SITE_LEN), SITE.to_vec(), "lead {lead}");
            } else {
                assert!(matches!(outcome, Outcome::Done), "lead {lead}");
                assert_eq!(bytes(&mm, site, 3), vec![0xff, 0x24, 0x25], "lead {lead}");
            }
        }
    }

    #[test]
    fn writable_or_changed_code_is_left_alone() {
        const SITE: [u8; 7] = [0xb8, 39, 0, 0, 0, 0x0f, 0x05];
        let mm = text_with(&SITE, TEXT + 0x10);
        // Another number than the call's.
        assert!(mm.with(|m| matches!(patch_site(m, &mut None, &FP, TEXT + 0x10, 110, false), Outcome::Never)));
        mm.protect(TEXT, 0x1000, Prot { read: true, write: true, exec: true }).unwrap();
        assert!(mm.with(|m| matches!(patch_site(m, &mut None, &FP, TEXT + 0x10, 39, false), Outcome::Never)));
        assert_eq!(bytes(&mm, TEXT + 0x10, SITE_LEN), SITE.to_vec());
        // The bytes changed between the read and the swap: no rewrite.
        mm.protect(TEXT, 0x1000, Prot { read: true, write: false, exec: true }).unwrap();
        let s = patch::decode_site(&SITE, TEXT + 0x10, 39).unwrap();
        let stale = [0xb8, 40, 0, 0, 0, 0x0f, 0x05];
        assert!(!mm.with(|m| rewrite(m, &s, &stale, &patch::patch_bytes(0x60080))));
        assert_eq!(bytes(&mm, TEXT + 0x10, SITE_LEN), SITE.to_vec());
    }
}
