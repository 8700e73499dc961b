//! The guest vDSO: the image every process finds at AT_SYSINFO_EHDR, and the data page before
//! it, so that clock_gettime, gettimeofday, time and getcpu cost no trap.
//!
//! This module owns the image (built from `sentry/vdso/vdso.c` by build.rs and embedded here),
//! the two memory-file regions each sandbox keeps for it (the text and the data page, shared by
//! every process like Linux's vDSO pages), the layout of the data page and the only writer of
//! it: the timekeeper thread, which publishes the parameters `kernel::timekeeper` computes
//! under a sequence count the vDSO reads. It maps both into a new process (`[vvar]`, then
//! `[vdso]`) and keeps guests from changing what other processes share: the data page can
//! never become writable or executable (EACCES, as in Linux) nor be punched out, and the text
//! becomes the process's own copy before it is made writable (Linux's copy-on-write).
//!
//! Without an invariant TSC (or with `SANDBOX_VDSO_FALLBACK=1` in the Sentry's environment,
//! which tests use), the page says so and every vDSO call makes the real system call, which the
//! Sentry serves as before. It must not touch the MemoryManager's internals: it uses its
//! public mapping calls only.

use std::sync::atomic::{fence, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Once, OnceLock, Weak};
use std::time::Duration;

use platform::{Prot, PAGE_SIZE};
use syscalls::Errno;

use crate::kernel::timekeeper::{self, ClockParams, Plan, Timekeeper};
use crate::mm::{page_up, Backing, MemoryFile, MemoryManager, VmaKind};

/// The vDSO, as built by build.rs: a shared object whose one PT_LOAD maps the file as it is.
pub static IMAGE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/vdso.so"));

/// Byte offsets of the fields of `struct vvar` (sentry/vdso/vdso.c asserts the same numbers).
mod field {
    pub const SEQ: u64 = 0;
    pub const CLOCK_MODE: u64 = 4;
    pub const TSC_BASE: u64 = 8;
    pub const MULT: u64 = 16;
    pub const MONO_BASE: u64 = 24;
    pub const REAL_OFFSET: u64 = 32;
    pub const BOOT_OFFSET: u64 = 40;
    pub const GETCPU_MODE: u64 = 48;
}

/// `clock_mode`: the vDSO makes the system call, or computes from the page's parameters.
const CLOCK_MODE_SYSCALL: u32 = 0;
const CLOCK_MODE_TSC: u32 = 1;
/// `getcpu_mode` values.
const GETCPU_SYSCALL: u32 = 0;
const GETCPU_RDPID: u32 = 1;
const GETCPU_RDTSCP: u32 = 2;

/// Updates come this often once the clock is settled; the first ones faster (1, 2, 4... ms) so
/// that guests read the TSC from their first milliseconds.
const PERIOD: Duration = Duration::from_millis(100);
const FIRST_INTERVAL: Duration = Duration::from_millis(1);

/// What the host offers, found once (before the Sentry's seccomp filter forbids reading
/// /proc/cpuinfo).
#[derive(Debug)]
struct HostSupport {
    /// The TSC is invariant: the vDSO may compute time from it.
    tsc: bool,
    /// How the vDSO reads the CPU number.
    getcpu: u32,
}

impl HostSupport {
    fn probe() -> HostSupport {
        if std::env::var_os("SANDBOX_VDSO_FALLBACK").is_some_and(|v| v == "1") {
            return HostSupport { tsc: false, getcpu: GETCPU_SYSCALL };
        }
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let has = |flag: &str| timekeeper::cpu_has(&cpuinfo, flag);
        let getcpu = if has("rdpid") && tsc_aux_is_cpu(read_rdpid) {
            GETCPU_RDPID
        } else if has("rdtscp") && tsc_aux_is_cpu(read_rdtscp) {
            GETCPU_RDTSCP
        } else {
            GETCPU_SYSCALL
        };
        let host = HostSupport { tsc: timekeeper::tsc_is_invariant(&cpuinfo), getcpu };
        tracing::info!(tsc = host.tsc, getcpu = host.getcpu, "guest vDSO");
        host
    }
}

fn host() -> &'static HostSupport {
    static HOST: OnceLock<HostSupport> = OnceLock::new();
    HOST.get_or_init(HostSupport::probe)
}

/// IA32_TSC_AUX through RDPID. Only called when /proc/cpuinfo lists the instruction.
fn read_rdpid() -> u64 {
    let aux: u64;
    // SAFETY: RDPID only reads IA32_TSC_AUX into a register; the CPU has it (checked by the
    // caller).
    unsafe { std::arch::asm!("rdpid {}", out(reg) aux, options(nomem, nostack)) };
    aux
}

/// IA32_TSC_AUX through RDTSCP. Only called when /proc/cpuinfo lists the instruction.
fn read_rdtscp() -> u64 {
    let aux: u32;
    // SAFETY: RDTSCP only reads the TSC into edx:eax and IA32_TSC_AUX into ecx; the CPU has it
    // (checked by the caller).
    unsafe { std::arch::asm!("rdtscp", out("eax") _, out("edx") _, out("ecx") aux, options(nomem, nostack)) };
    u64::from(aux)
}

/// Whether the host kernel keeps this CPU's number in IA32_TSC_AUX, as Linux does: the number
/// read agrees with sched_getcpu (a few tries, in case the thread moves in between).
fn tsc_aux_is_cpu(read: fn() -> u64) -> bool {
    (0..3).any(|_| {
        let aux = read() & 0xfff;
        // SAFETY: sched_getcpu takes nothing.
        let cpu = unsafe { libc::sched_getcpu() };
        cpu >= 0 && aux == cpu as u64
    })
}

/// The vDSO's regions in one memory file.
#[derive(Clone, Debug)]
struct Regions {
    mf: Weak<MemoryFile>,
    /// The image, page-rounded.
    text: u64,
    /// The data page.
    vvar: u64,
}

/// Every sandbox's regions (one but in unit tests) and the parameters published last.
struct State {
    regions: Vec<Regions>,
    latest: Option<ClockParams>,
}

static STATE: Mutex<State> = Mutex::new(State { regions: Vec::new(), latest: None });

fn state() -> MutexGuard<'static, State> {
    STATE.lock().unwrap_or_else(|e| e.into_inner())
}

fn regions_of(mf: &Arc<MemoryFile>) -> Option<Regions> {
    state().regions.iter().find(|r| std::ptr::eq(r.mf.as_ptr(), Arc::as_ptr(mf))).cloned()
}

fn text_len() -> u64 {
    page_up(IMAGE.len() as u64).unwrap_or(PAGE_SIZE)
}

/// The data page in one memory file, written through the Sentry's mapping of it.
struct Page<'a> {
    mf: &'a MemoryFile,
    off: u64,
}

impl Page<'_> {
    fn word32(&self, field: u64) -> &AtomicU32 {
        // SAFETY: the page is inside the memory file's mapping, which lives as long as `mf`;
        // `off` is page-aligned and the field 4-aligned. Guests map the page read-only, so
        // every write to it is one of these atomic stores.
        unsafe { AtomicU32::from_ptr(self.mf.ptr(self.off + field).cast()) }
    }

    fn word64(&self, field: u64) -> &AtomicU64 {
        // SAFETY: as in `word32`; the field is 8-aligned.
        unsafe { AtomicU64::from_ptr(self.mf.ptr(self.off + field).cast()) }
    }

    /// The clock fields; the caller holds the sequence count odd.
    fn write_clock(&self, p: &ClockParams) {
        self.word64(field::TSC_BASE).store(p.tsc_base, Ordering::Relaxed);
        self.word64(field::MULT).store(p.mult, Ordering::Relaxed);
        self.word64(field::MONO_BASE).store(p.mono_base, Ordering::Relaxed);
        self.word64(field::REAL_OFFSET).store(p.real_offset as u64, Ordering::Relaxed);
        self.word64(field::BOOT_OFFSET).store(p.boot_offset as u64, Ordering::Relaxed);
        self.word32(field::CLOCK_MODE).store(CLOCK_MODE_TSC, Ordering::Relaxed);
    }
}

/// Gives the sandbox of memory file `mf` its vDSO regions: the image and a data page that
/// asks for system calls until the timekeeper publishes (at once if it runs already).
pub fn attach(mf: &Arc<MemoryFile>) -> Result<(), Errno> {
    let host = host();
    let text = mf.allocate_shared(text_len())?;
    mf.write(text, IMAGE);
    let vvar = mf.allocate_shared(PAGE_SIZE)?;
    let page = Page { mf, off: vvar };
    page.word32(field::GETCPU_MODE).store(host.getcpu, Ordering::Relaxed);
    let mut st = state();
    if let Some(p) = st.latest {
        page.write_clock(&p);
    }
    st.regions.retain(|r| r.mf.strong_count() > 0);
    st.regions.push(Regions { mf: Arc::downgrade(mf), text, vvar });
    Ok(())
}

/// Starts the thread that keeps the data pages current, once per Sentry, when the TSC can be
/// used. Threads started from here on inherit the Sentry's seccomp filter; this one needs
/// nothing more than clock_gettime and nanosleep.
pub fn start_timekeeper() -> std::io::Result<()> {
    static STARTED: Once = Once::new();
    let mut result = Ok(());
    if host().tsc {
        STARTED.call_once(|| result = std::thread::Builder::new().name("timekeeper".into()).spawn(keep_time).map(drop));
    }
    result
}

/// The timekeeper thread's body: samples, plans and publishes, forever.
fn keep_time() {
    let mut keeper = Timekeeper::default();
    let mut interval = FIRST_INTERVAL;
    loop {
        let s = timekeeper::sample();
        let off = timekeeper::offsets();
        if keeper.tsc_went_back(&s) {
            // Guests ask the kernel (whose clock is ahead of any frozen TSC reading) until a
            // new calibration starts again from the host's clock.
            tracing::warn!("the TSC went back: guest clocks use system calls until it is calibrated again");
            withdraw();
            keeper = Timekeeper::default();
            interval = FIRST_INTERVAL;
        }
        if let Some(plan) = keeper.plan(s, off, interval) {
            if plan.error.unsigned_abs() >= 1_000 {
                tracing::debug!(behind_ns = plan.error, "guest clock off the host's");
            }
            publish(&mut keeper, &plan);
        }
        std::thread::sleep(interval);
        interval = (interval * 2).min(PERIOD);
    }
}

/// Writes the parameters of `plan` to every data page. The sequence count goes odd first, and
/// only then is the TSC read at which the new parameters start: a guest that reads the old
/// ones has read the TSC before that, so it cannot see a later time than the new ones give.
fn publish(keeper: &mut Timekeeper, plan: &Plan) {
    let mut st = state();
    st.regions.retain(|r| r.mf.strong_count() > 0);
    let files: Vec<(Arc<MemoryFile>, u64)> = st.regions.iter().filter_map(|r| Some((r.mf.upgrade()?, r.vvar))).collect();
    let pages: Vec<Page<'_>> = files.iter().map(|(mf, off)| Page { mf, off: *off }).collect();
    for p in &pages {
        p.word32(field::SEQ).fetch_add(1, Ordering::Relaxed);
    }
    // The odd counts are visible to every CPU before the TSC is read.
    fence(Ordering::SeqCst);
    let params = keeper.commit(plan, timekeeper::rdtsc());
    for p in &pages {
        p.write_clock(&params);
        p.word32(field::SEQ).fetch_add(1, Ordering::Release);
    }
    st.latest = Some(params);
}

/// Makes every data page ask for system calls again.
fn withdraw() {
    let mut st = state();
    for r in &st.regions {
        if let Some(mf) = r.mf.upgrade() {
            let p = Page { mf: &mf, off: r.vvar };
            p.word32(field::SEQ).fetch_add(1, Ordering::Relaxed);
            fence(Ordering::SeqCst);
            p.word32(field::CLOCK_MODE).store(CLOCK_MODE_SYSCALL, Ordering::Relaxed);
            p.word32(field::SEQ).fetch_add(1, Ordering::Release);
        }
    }
    st.latest = None;
}

/// Maps the data page and the vDSO into a new process, top-down from the mmap area as Linux
/// places them; returns the image's address for AT_SYSINFO_EHDR, or None when the sandbox has
/// no vDSO (unit tests' bare memory files).
pub fn map(mm: &mut MemoryManager) -> Result<Option<u64>, Errno> {
    let Some(r) = regions_of(mm.memory_file()) else { return Ok(None) };
    let at = mm.free_area(PAGE_SIZE + text_len())?;
    let read = Prot { read: true, write: false, exec: false };
    mm.map_memory(at, PAGE_SIZE, read, true, VmaKind::Anon, Backing::Region(r.vvar))?;
    let text = at + PAGE_SIZE;
    mm.map_memory(text, text_len(), Prot { exec: true, ..read }, true, VmaKind::Anon, Backing::Region(r.text))?;
    Ok(Some(text))
}

/// What /proc/<pid>/maps calls a VMA sharing memory-file region `shared`, if it is the vDSO's.
pub fn name_of(mf: &Arc<MemoryFile>, shared: Option<u64>) -> Option<&'static str> {
    let shared = shared?;
    let r = regions_of(mf)?;
    if shared == r.vvar {
        Some("[vvar]")
    } else if shared == r.text {
        Some("[vdso]")
    } else {
        None
    }
}

/// mprotect(2) of the vDSO's pages, before the change: EACCES for making the data page
/// writable or executable (Linux maps it without VM_MAYWRITE and VM_MAYEXEC); the text, made
/// writable, first becomes a private copy, so the change stays in this process. Ranges that
/// protect() refuses anyway (unaligned, not fully mapped) are left to it.
pub fn before_protect(mm: &MemoryManager, addr: u64, len: u64, prot: Prot) -> Result<(), Errno> {
    if !prot.write && !prot.exec || !addr.is_multiple_of(PAGE_SIZE) {
        return Ok(());
    }
    let Some(r) = regions_of(mm.memory_file()) else { return Ok(()) };
    let end = addr.saturating_add(page_up(len).unwrap_or(u64::MAX));
    let mut at = addr;
    let mut copies = Vec::new();
    while at < end {
        let Some(v) = mm.find(at) else { break };
        if v.shared == Some(r.vvar) {
            return Err(Errno::EACCES);
        }
        if v.shared == Some(r.text) && prot.write {
            copies.push(v);
        }
        at = v.end;
    }
    for v in copies {
        let mut bytes = vec![0u8; (v.end - v.start) as usize];
        mm.memory_file().read(v.offset, &mut bytes);
        mm.map_anon(v.start, v.end - v.start, v.prot, true, VmaKind::Anon)?;
        mm.copy_out_force(v.start, &bytes)?;
    }
    Ok(())
}

/// madvise(MADV_REMOVE) of the vDSO's pages: EINVAL, as for any mapping without a file in
/// Linux (here it would punch the pages out for every process).
pub fn check_remove(mm: &MemoryManager, addr: u64, len: u64) -> Result<(), Errno> {
    let Some(r) = regions_of(mm.memory_file()) else { return Ok(()) };
    let end = addr.saturating_add(len);
    if mm.with(|m| m.vmas().any(|v| v.start < end && addr < v.end && (v.shared == Some(r.vvar) || v.shared == Some(r.text)))) {
        return Err(Errno::EINVAL);
    }
    Ok(())
}

/// A guest set a CPU mask narrower than the host's: from now on getcpu must honour masks as
/// the system call does, so the vDSO makes the call for every process of the sandbox.
pub fn affinity_narrowed(mf: &Arc<MemoryFile>) {
    if let Some(r) = regions_of(mf) {
        Page { mf, off: r.vvar }.word32(field::GETCPU_MODE).store(GETCPU_SYSCALL, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loader::elf::{parse, ElfKind};

    fn u16_at(b: &[u8], at: usize) -> u16 {
        u16::from_le_bytes([b[at], b[at + 1]])
    }

    fn u64_at(b: &[u8], at: usize) -> u64 {
        u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
    }

    #[test]
    fn image_is_one_relocation_free_page() {
        let img = parse(IMAGE).expect("the vDSO is a valid ELF shared object");
        assert_eq!(img.kind, ElfKind::Dyn);
        assert_eq!(img.segments.len(), 1, "one PT_LOAD");
        let s = &img.segments[0];
        assert_eq!((s.offset, s.vaddr), (0, 0), "mapped as the file is, from its header");
        assert!(!s.prot.write, "nothing writable");
        assert!(IMAGE.len() as u64 <= PAGE_SIZE, "fits one page ({} bytes)", IMAGE.len());
        // The dynamic section: no relocation of any kind (the guest's ld.so never applies them).
        let (phoff, phnum) = (u64_at(IMAGE, 32) as usize, u16_at(IMAGE, 56) as usize);
        let dynamic = (0..phnum).map(|i| phoff + i * 56).find(|&ph| u32::from_le_bytes(IMAGE[ph..ph + 4].try_into().unwrap()) == 2).expect("a PT_DYNAMIC");
        let (off, size) = (u64_at(IMAGE, dynamic + 8) as usize, u64_at(IMAGE, dynamic + 32) as usize);
        let tags: Vec<u64> = (off..off + size).step_by(16).map(|d| u64_at(IMAGE, d)).collect();
        const DT_RELA: u64 = 7;
        const DT_REL: u64 = 17;
        const DT_JMPREL: u64 = 23;
        const DT_TEXTREL: u64 = 22;
        const DT_HASH: u64 = 4;
        const DT_VERDEF: u64 = 0x6fff_fffc;
        for t in [DT_RELA, DT_REL, DT_JMPREL, DT_TEXTREL] {
            assert!(!tags.contains(&t), "dynamic tag {t} present");
        }
        assert!(tags.contains(&DT_HASH) && tags.contains(&DT_VERDEF), "DT_HASH and versions for every parser");
    }

    #[test]
    fn exports_the_names_libcs_look_up() {
        let text = String::from_utf8_lossy(IMAGE);
        for name in ["__vdso_clock_gettime", "__vdso_gettimeofday", "__vdso_time", "__vdso_getcpu", "LINUX_2.6", "linux-vdso.so.1"] {
            assert!(text.contains(name), "{name} missing");
        }
    }
}
