//! The program loader: maps a validated ELF image into a fresh address space and builds the
//! initial stack (argv, envp, auxv) exactly where a Linux kernel would put the same things.

pub mod elf;
pub mod vdso;

use platform::{Prot, PAGE_SIZE};
use syscalls::Errno;

use crate::mm::{page_cache, page_down, page_up, Backing, MemoryManager, VmaKind};
pub use elf::{parse, ElfError, ElfImage, ElfKind};

/// Where static-pie executables are placed (Linux's ELF_ET_DYN_BASE for 47-bit spaces).
const DYN_BASE: u64 = 0x5555_5555_4000;
/// The main thread's stack size for a soft RLIMIT_STACK of `limit`. Linux grows the stack on
/// demand up to the limit; here the whole of it is mapped at exec (untouched pages cost
/// nothing), between 128 KiB and 1 GiB (an unlimited stack gets the most).
pub fn stack_size(limit: u64) -> u64 {
    page_up(limit.clamp(128 << 10, 1 << 30)).unwrap_or(1 << 30)
}
/// Gap between the stack and the top of the mmap area, as Linux keeps one.
const STACK_GAP: u64 = 128 << 20;

const AT_NULL: u64 = 0;
const AT_PHDR: u64 = 3;
const AT_PHENT: u64 = 4;
const AT_PHNUM: u64 = 5;
const AT_PAGESZ: u64 = 6;
const AT_BASE: u64 = 7;
const AT_FLAGS: u64 = 8;
const AT_ENTRY: u64 = 9;
const AT_UID: u64 = 11;
const AT_EUID: u64 = 12;
const AT_GID: u64 = 13;
const AT_EGID: u64 = 14;
const AT_PLATFORM: u64 = 15;
const AT_HWCAP: u64 = 16;
const AT_CLKTCK: u64 = 17;
const AT_SECURE: u64 = 23;
const AT_RANDOM: u64 = 25;
const AT_HWCAP2: u64 = 26;
const AT_EXECFN: u64 = 31;
const AT_SYSINFO_EHDR: u64 = 33;
const AT_MINSIGSTKSZ: u64 = 51;

/// The process the loader sets up: where to start and with what stack.
#[derive(Clone, Copy, Debug)]
pub struct LoadedProgram {
    /// Initial instruction pointer.
    pub entry: u64,
    /// Initial stack pointer (pointing at argc).
    pub sp: u64,
}

/// Credentials shown in the auxiliary vector.
#[derive(Clone, Copy, Debug, Default)]
pub struct AuxCreds {
    /// AT_UID.
    pub uid: u32,
    /// AT_EUID.
    pub euid: u32,
    /// AT_GID.
    pub gid: u32,
    /// AT_EGID.
    pub egid: u32,
}

/// The span [lo, hi) an image occupies at `base`.
fn span(img: &ElfImage, base: u64) -> Result<(u64, u64), Errno> {
    let lo = page_down(img.segments[0].vaddr + base);
    let last = img.segments.last().ok_or(Errno::ENOEXEC)?;
    let hi = page_up(last.vaddr + last.memsz + base).ok_or(Errno::ENOMEM)?;
    Ok((lo, hi))
}

/// Maps an image's segments at `base`: one mapping for the whole span, so pages shared by two
/// segments keep both contents; then per-page protections, and gaps unmapped. The whole pages
/// of read-only segments come from the page cache (shared with every process running the same
/// file) when the file's version is known; the rest is copied.
fn map_image(mm: &mut MemoryManager, img: &ElfImage, file: &[u8], base: u64) -> Result<u64, Errno> {
    let user = mm.user_range();
    let (lo, hi) = span(img, base)?;
    if lo < user.start || hi > user.end {
        return Err(Errno::ENOMEM);
    }
    mm.map_anon(lo, hi - lo, Prot::RW, true, VmaKind::Image)?;
    let mut cached = Vec::new();
    for s in &img.segments {
        let (start, end) = (s.vaddr + base, s.vaddr + base + s.filesz);
        let bytes = |from: u64, to: u64| &file[(s.offset + (from - start)) as usize..(s.offset + (to - start)) as usize];
        let pages = (page_up(start).unwrap_or(end), page_down(end));
        match (img.file, pages) {
            (Some(id), (a, b)) if !s.prot.write && a < b => {
                mm.copy_out_force(start, bytes(start, a))?;
                mm.copy_out_force(b, bytes(b, end))?;
                cached.push((a, b, s.offset + (a - start), s.prot, id));
            }
            _ => mm.copy_out_force(start, bytes(start, end))?,
        }
    }
    let mut covered = lo;
    for (start, end, prot) in page_regions(img, base) {
        if start > covered {
            mm.unmap(covered, start - covered)?;
        }
        mm.protect(start, end - start, prot)?;
        covered = end;
    }
    let mf = mm.memory_file().clone();
    for (a, b, off, prot, id) in cached {
        let key = page_cache::Key::new(id, off, b - a);
        let region = mf.page_cache.region(&mf, key, |iov, at| Ok(crate::fs::copy_to_iov(file, at, iov)))?;
        mm.map_memory(a, b - a, prot, true, VmaKind::Image, Backing::CopyOnWrite(region))?;
    }
    Ok(hi)
}

/// Maps `img` (parsed from `file`) into `mm`, and its program interpreter if it has one, and
/// builds the initial stack.
#[allow(clippy::too_many_arguments)]
pub fn load(
    mm: &mut MemoryManager,
    img: &ElfImage,
    file: &[u8],
    interp: Option<(&ElfImage, &[u8])>,
    argv: &[Vec<u8>],
    envp: &[Vec<u8>],
    execfn: &[u8],
    creds: AuxCreds,
    stack_limit: u64,
) -> Result<LoadedProgram, Errno> {
    let stack_size = stack_size(stack_limit);
    let base = match img.kind {
        ElfKind::Exec => 0,
        ElfKind::Dyn => DYN_BASE - page_down(img.segments[0].vaddr),
    };
    let user = mm.user_range();
    let hi = map_image(mm, img, file, base)?;
    mm.set_brk_start(hi);

    // The stack, just below the top of the guest's address space.
    let stack_top = page_down(user.end - PAGE_SIZE);
    let stack_prot = Prot { read: true, write: true, exec: img.exec_stack };
    mm.map_anon(stack_top - stack_size, stack_size, stack_prot, true, VmaKind::Stack)?;
    mm.set_mmap_top(stack_top - stack_size - STACK_GAP);

    // The interpreter goes where mmap would put it: at the top of the mmap area.
    let (interp_base, start) = match interp {
        None => (0, img.entry + base),
        Some((i, bytes)) => {
            let (lo, hi) = span(i, 0)?;
            let at = mm.free_area(hi - lo)?;
            let ib = at - lo;
            map_image(mm, i, bytes, ib)?;
            (ib, i.entry + ib)
        }
    };
    // The vDSO goes below, as Linux maps it after the interpreter.
    let vdso = vdso::map(mm)?;

    let phdr = match img.phdr_vaddr {
        Some(v) => v + base,
        // Without PT_PHDR, the headers are found through the segment that maps file offset 0.
        None => img
            .segments
            .iter()
            .find(|s| s.offset <= img.phoff && img.phoff < s.offset + s.filesz)
            .map_or(0, |s| s.vaddr + base + (img.phoff - s.offset)),
    };
    let mut st = StackBuilder { mm, sp: stack_top, size: stack_size };
    let execfn_at = st.push_bytes(execfn)?;
    let env_at = envp.iter().rev().map(|e| st.push_bytes(e)).collect::<Result<Vec<_>, _>>()?;
    let arg_at = argv.iter().rev().map(|a| st.push_bytes(a)).collect::<Result<Vec<_>, _>>()?;
    let platform_at = st.push_bytes(b"x86_64")?;
    let mut random = [0u8; 16];
    fill_random(&mut random);
    st.sp &= !15;
    st.sp -= 16;
    st.mm.copy_out(st.sp, &random)?;
    let random_at = st.sp;

    let auxv = [
        (AT_SYSINFO_EHDR, vdso.unwrap_or(0)),
        (AT_PHDR, phdr),
        (AT_PHENT, 56),
        (AT_PHNUM, u64::from(img.phnum)),
        (AT_PAGESZ, PAGE_SIZE),
        (AT_BASE, interp_base),
        (AT_FLAGS, 0),
        (AT_ENTRY, img.entry + base),
        (AT_UID, u64::from(creds.uid)),
        (AT_EUID, u64::from(creds.euid)),
        (AT_GID, u64::from(creds.gid)),
        (AT_EGID, u64::from(creds.egid)),
        (AT_SECURE, 0),
        (AT_RANDOM, random_at),
        (AT_HWCAP, host_auxval(AT_HWCAP)),
        (AT_HWCAP2, host_auxval(AT_HWCAP2)),
        (AT_CLKTCK, 100),
        (AT_PLATFORM, platform_at),
        (AT_EXECFN, execfn_at),
        (AT_MINSIGSTKSZ, host_auxval(AT_MINSIGSTKSZ)),
        (AT_NULL, 0),
    ];
    // argc, argv..., NULL, envp..., NULL, auxv pairs: the final sp must be 16-byte aligned.
    // Without a vDSO there is no AT_SYSINFO_EHDR at all, as Linux with vdso=0.
    let auxv: Vec<(u64, u64)> = auxv.into_iter().filter(|&(k, _)| k != AT_SYSINFO_EHDR || vdso.is_some()).collect();
    let words = 1 + argv.len() + 1 + envp.len() + 1 + 2 * auxv.len();
    st.sp &= !15;
    if words % 2 == 1 {
        st.sp -= 8;
    }
    let mut table = Vec::with_capacity(words);
    table.push(argv.len() as u64);
    table.extend(arg_at.iter().rev());
    table.push(0);
    table.extend(env_at.iter().rev());
    table.push(0);
    for (k, v) in auxv {
        table.push(k);
        table.push(v);
    }
    let bytes: Vec<u8> = table.iter().flat_map(|w| w.to_le_bytes()).collect();
    st.sp -= bytes.len() as u64;
    st.mm.copy_out(st.sp, &bytes)?;
    Ok(LoadedProgram { entry: start, sp: st.sp })
}

/// The page-granular protection regions of the image: a page shared by two segments gets the
/// union of their protections, as Linux's overlapping mappings would give it.
fn page_regions(img: &ElfImage, base: u64) -> Vec<(u64, u64, Prot)> {
    let mut out: Vec<(u64, u64, Prot)> = Vec::new();
    for s in &img.segments {
        let mut start = page_down(s.vaddr + base);
        let end = page_up(s.vaddr + s.memsz + base).unwrap_or(start);
        if let Some(last) = out.last_mut() {
            if last.1 > start {
                // The previous region's last page is this segment's first.
                let shared_prot = last.2.union(s.prot);
                let shared_end = last.1;
                let prev = *last;
                out.pop();
                if prev.0 < start {
                    out.push((prev.0, start, prev.2));
                }
                out.push((start, shared_end, shared_prot));
                start = shared_end;
            }
        }
        if start < end {
            out.push((start, end, s.prot));
        }
    }
    out
}

struct StackBuilder<'a> {
    mm: &'a mut MemoryManager,
    sp: u64,
    size: u64,
}

impl StackBuilder<'_> {
    /// Pushes a NUL-terminated copy of `s`; returns its address.
    fn push_bytes(&mut self, s: &[u8]) -> Result<u64, Errno> {
        let len = s.len() as u64 + 1;
        if len > self.size / 4 {
            return Err(Errno::E2BIG);
        }
        self.sp = self.sp.checked_sub(len).ok_or(Errno::E2BIG)?;
        let mut v = s.to_vec();
        v.push(0);
        self.mm.copy_out(self.sp, &v).map_err(|_| Errno::E2BIG)?;
        Ok(self.sp)
    }
}

fn host_auxval(key: u64) -> u64 {
    // SAFETY: getauxval reads the Sentry's own auxiliary vector; any key is allowed.
    unsafe { libc::getauxval(key) }
}

/// Fills `buf` from the host's entropy pool.
pub fn fill_random(buf: &mut [u8]) {
    let mut done = 0;
    while done < buf.len() {
        // SAFETY: the destination is the unfilled tail of `buf`.
        let n = unsafe { libc::getrandom(buf[done..].as_mut_ptr().cast(), buf.len() - done, 0) };
        if n > 0 {
            done += n as usize;
        } else if std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            // getrandom(2) cannot fail on the kernels we run on but for EINTR; never spin.
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use elf::Segment;

    fn seg(vaddr: u64, memsz: u64, prot: Prot) -> Segment {
        Segment { vaddr, memsz, filesz: 0, offset: 0, prot }
    }

    #[test]
    fn shared_pages_get_both_protections() {
        let rx = Prot { read: true, write: false, exec: true };
        let img = ElfImage {
            kind: ElfKind::Exec,
            entry: 0x400000,
            phoff: 64,
            phnum: 2,
            segments: vec![seg(0x400000, 0x1800, rx), seg(0x401800, 0x1000, Prot::RW)],
            phdr_vaddr: None,
            exec_stack: false,
            interp: None,
            file: None,
        };
        let r = page_regions(&img, 0);
        assert_eq!(
            r,
            vec![
                (0x400000, 0x401000, rx),
                (0x401000, 0x402000, rx.union(Prot::RW)),
                (0x402000, 0x403000, Prot::RW)
            ]
        );
    }
}
