//! Syscall-site patching: the machine code a platform with a fast system-call path (systrap)
//! lets the Sentry write into guest memory, and how to recognise the sites worth rewriting.
//!
//! This module owns byte patterns only: which seven bytes before a trapped `syscall` may be
//! rewritten, what they become, and the per-site *entry* they jump to. It touches no memory;
//! the Sentry finds the site, checks its mapping, places the entries in a table inside the
//! guest's address space and writes both (see `sentry/src/kernel/patch.rs`).
//!
//! A site is a five-byte instruction that only loads a register (`mov $nr,%eax` in nearly all
//! of libc, `mov 0x8(%rsp),%r9` in glibc's `syscall(2)`) followed by `syscall`. The site becomes
//! `jmp *ENTRY` (`ff 24 25` and the entry's 32-bit address), and the entry runs:
//!
//! ```text
//!  E+0   .quad E+16              target of the site's indirect jump
//!  E+8   .quad site+7            where the guest continues
//!  E+16  <the displaced load>    re-run as it was (idempotent: a load into a register)
//!  E+21  mov %gs:COOKIE,%r11     is GS the stub thread's own slot? (the platform keeps it so
//!  E+30  not %r11                 unless the guest set a GS base of its own)
//!  E+33  movabs $cookie,%rcx
//!  E+43  lea 1(%rcx,%r11),%rcx   rcx = cookie - r11, flags untouched
//!  E+48  jrcxz E+58
//!  E+50  syscall                 slow path: an ordinary trapped syscall, displaced
//!  E+52  jmp *E+8(%rip)          resume point: back to the site
//!  E+58  lea E+52(%rip),%rcx     fast path: rcx = the resume point, as `syscall` sets it
//!  E+65  jmp *E+72(%rip)         into the stub's trampoline, which hands the registers to
//!  E+72  .quad trampoline         the Sentry without a signal
//! ```
//!
//! The trampoline reports the call exactly as if the displaced `syscall` at E+50 had trapped:
//! rip is the resume point E+52 and rcx equals it. So a restart (rip -= 2) re-executes the
//! displaced `syscall`, a signal frame returns to E+52 and from there to the site, and nothing
//! in the Sentry needs to know which way the call came. rax, rcx and r11 are the only
//! registers the entry changes, the ones `syscall` clobbers anyway; flags are preserved.
//!
//! Entries live in a table whose addresses all have 0x06 as their third byte (0xNN06xxxx, below
//! 2 GiB), so the patched site's byte at +5, where `syscall` used to start, is 0x06: an invalid
//! opcode in 64-bit mode (gVisor's trick). A thread that ran the old load just before another
//! thread patched the site faults there with SIGILL, and the Sentry serves the call it was
//! about to make; so does a jump straight to the old `syscall`.

use iced_x86::{Code, Decoder, DecoderOptions, Mnemonic, OpKind, Register};

/// Bytes of a site: the five-byte load and the two-byte `syscall`.
pub const SITE_LEN: usize = 7;
/// Bytes of one entry in the table.
pub const ENTRY_SIZE: u64 = 128;
/// A table spans at most the 64 KiB whose third address byte is 0x06.
pub const TABLE_SIZE: u64 = 0x1_0000;
/// The byte a patched site has where its `syscall` was: invalid in 64-bit mode.
pub const FAULT_BYTE: u8 = 0x06;

/// Offsets in an entry.
pub const ENTRY_RET: u64 = 8;
/// The displaced load.
pub const ENTRY_DISPLACED: u64 = 16;
/// The GS probe: faults when a guest-set GS base points at unmapped memory.
pub const ENTRY_PROBE: u64 = 21;
/// The displaced `syscall` (the slow path).
pub const ENTRY_SYSCALL: u64 = 50;
/// Where the guest resumes after the call (the instruction after the displaced `syscall`).
pub const ENTRY_RESUME: u64 = 52;
/// The fast path's first instruction in the entry (rcx = the resume point).
pub const ENTRY_FAST: u64 = 58;
/// The trampoline's address, the last of the entry's code is before it.
pub const ENTRY_TRAMPOLINE: u64 = 72;

/// Whether an entry's code at `offset` lies between its GS check and the jump that trusts it
/// (ENTRY_PROBE up to the slow path's `syscall`, and the fast path up to the trampoline): a
/// thread interrupted there may run the check again, which changes nothing `syscall` keeps
/// (only rcx and r11, and no flag).
pub fn in_gs_window(offset: u64) -> bool {
    (ENTRY_PROBE..ENTRY_SYSCALL).contains(&offset) || (ENTRY_FAST..ENTRY_TRAMPOLINE).contains(&offset)
}

/// What the Sentry needs to build entries for a platform's fast path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FastPath {
    /// The stub's trampoline, the same address in every stub of the platform.
    pub trampoline: u64,
    /// The value every stub thread keeps at `cookie_offset` from its GS base.
    pub cookie: u64,
    /// Where the cookie is, from the GS base.
    pub cookie_offset: u32,
}

/// A patchable site.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Site {
    /// Address of its first byte (the `syscall` ends at `addr + 7`).
    pub addr: u64,
    /// The load before the `syscall`, displaced into the entry.
    pub load: [u8; 5],
}

impl Site {
    /// Whether the load is `mov $imm32,%r32`: five bytes that stay a harmless load of some
    /// register whatever values its four immediate bytes have.
    pub fn load_is_immediate(&self) -> bool {
        (0xb8..=0xbf).contains(&self.load[0])
    }
}

/// Whether `bytes` at `addr` are a load the entry may re-run followed by `syscall`, for a call
/// whose number was `nr`. Loads: `mov $imm32,%r32` (for eax, only of the number `nr` itself,
/// as gVisor requires), or `mov disp(%base[,%index]),%reg` with neither register being the
/// destination, no segment override and no rip-relative address (the entry is elsewhere).
pub fn decode_site(bytes: &[u8; SITE_LEN], addr: u64, nr: u64) -> Option<Site> {
    let mut d = Decoder::with_ip(64, bytes, addr, DecoderOptions::NONE);
    let load = d.decode();
    let call = d.decode();
    if load.is_invalid() || load.len() != 5 || call.code() != Code::Syscall || call.len() != 2 {
        return None;
    }
    if load.mnemonic() != Mnemonic::Mov || load.op_count() != 2 || load.op0_kind() != OpKind::Register || load.has_lock_prefix() {
        return None;
    }
    let dst = load.op0_register().full_register();
    if !dst.is_gpr64() || dst == Register::RSP {
        return None;
    }
    let ok = match load.op1_kind() {
        OpKind::Immediate32 => load.code() == Code::Mov_r32_imm32 && (dst != Register::RAX || u64::from(load.immediate32()) == nr),
        OpKind::Memory => {
            let (base, index) = (load.memory_base(), load.memory_index());
            load.segment_prefix() == Register::None
                && !load.is_ip_rel_memory_operand()
                && base != Register::None
                && base.full_register() != dst
                && (index == Register::None || index.full_register() != dst)
                && matches!(load.code(), Code::Mov_r64_rm64 | Code::Mov_r32_rm32)
        }
        _ => false,
    };
    let mut l = [0u8; 5];
    l.copy_from_slice(&bytes[..5]);
    ok.then_some(Site { addr, load: l })
}

/// The addresses a table may start at, in the order to try them: 0x0006_0000, 0x0106_0000, ...
/// (all below 2 GiB, so a sign-extended 32-bit displacement reaches them).
pub fn table_candidates() -> impl Iterator<Item = u64> {
    (0u64..0x80).map(|hi| (hi << 24) | (u64::from(FAULT_BYTE) << 16))
}

/// Whether `addr` lies in a window a table may occupy.
pub fn in_table_window(addr: u64) -> bool {
    addr < 1 << 31 && (addr >> 16) & 0xff == u64::from(FAULT_BYTE)
}

/// The seven bytes a site becomes: `jmp *entry`.
pub fn patch_bytes(entry: u64) -> [u8; SITE_LEN] {
    debug_assert!(in_table_window(entry));
    let a = (entry as u32).to_le_bytes();
    [0xff, 0x24, 0x25, a[0], a[1], a[2], a[3]]
}

/// The entry a patched site jumps to, if `bytes` are a patch.
pub fn patched_entry(bytes: &[u8; SITE_LEN]) -> Option<u64> {
    if bytes[..3] != [0xff, 0x24, 0x25] {
        return None;
    }
    let entry = u64::from(u32::from_le_bytes([bytes[3], bytes[4], bytes[5], bytes[6]]));
    in_table_window(entry).then_some(entry)
}

impl FastPath {
    /// The entry at address `entry` for `site`.
    pub fn entry(&self, entry: u64, site: &Site) -> [u8; ENTRY_SIZE as usize] {
        let mut e = [0xccu8; ENTRY_SIZE as usize];
        let mut at = 0usize;
        let mut put = |b: &[u8]| {
            e[at..at + b.len()].copy_from_slice(b);
            at += b.len();
        };
        put(&(entry + ENTRY_DISPLACED).to_le_bytes());
        put(&(site.addr + SITE_LEN as u64).to_le_bytes());
        put(&site.load);
        put(&[0x65, 0x4c, 0x8b, 0x1c, 0x25]); // mov %gs:disp32,%r11
        put(&self.cookie_offset.to_le_bytes());
        put(&[0x49, 0xf7, 0xd3]); // not %r11
        put(&[0x48, 0xb9]); // movabs $imm64,%rcx
        put(&self.cookie.to_le_bytes());
        put(&[0x4a, 0x8d, 0x4c, 0x19, 0x01]); // lea 0x1(%rcx,%r11,1),%rcx
        put(&[0xe3, (ENTRY_FAST - ENTRY_SYSCALL) as u8]); // jrcxz, to the fast path
        put(&[0x0f, 0x05]); // syscall
        put(&[0xff, 0x25]); // jmp *rel32(%rip), to E+8
        put(&(ENTRY_RET as i32 - (ENTRY_RESUME as i32 + 6)).to_le_bytes());
        put(&[0x48, 0x8d, 0x0d]); // lea rel32(%rip),%rcx, the resume point
        put(&(ENTRY_RESUME as i32 - (ENTRY_FAST as i32 + 7)).to_le_bytes());
        put(&[0xff, 0x25]); // jmp *rel32(%rip), to the trampoline's address
        put(&(ENTRY_TRAMPOLINE as i32 - (ENTRY_FAST as i32 + 13)).to_le_bytes());
        put(&[0xcc]);
        put(&self.trampoline.to_le_bytes());
        debug_assert_eq!(at as u64, ENTRY_TRAMPOLINE + 8);
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(bytes: [u8; 7], nr: u64) -> Option<Site> {
        decode_site(&bytes, 0x401000, nr)
    }

    #[test]
    fn sites_are_loads_followed_by_syscall() {
        // mov $39,%eax; syscall
        assert!(site([0xb8, 39, 0, 0, 0, 0x0f, 0x05], 39).is_some());
        // ... but not for another number than the one in rax.
        assert!(site([0xb8, 39, 0, 0, 0, 0x0f, 0x05], 110).is_none());
        // mov 0x8(%rsp),%r9; syscall (glibc's syscall(2))
        assert!(site([0x4c, 0x8b, 0x4c, 0x24, 0x08, 0x0f, 0x05], 110).is_some());
        // mov $1,%edi; syscall
        assert!(site([0xbf, 1, 0, 0, 0, 0x0f, 0x05], 60).is_some());
        // mov 0x8(%rsp),%rsp: changes the stack, not re-runnable
        assert!(site([0x48, 0x8b, 0x64, 0x24, 0x08, 0x0f, 0x05], 1).is_none());
        // mov 0x8(%rax,%rbx,1),%rax: its base is its destination
        assert!(site([0x48, 0x8b, 0x44, 0x18, 0x08, 0x0f, 0x05], 1).is_none());
        // mov 0x8(%rbx,%rdi,1),%rdi: its index is its destination
        assert!(site([0x48, 0x8b, 0x7c, 0x3b, 0x08, 0x0f, 0x05], 1).is_none());
        // add $1,%eax (5 bytes: 05 imm32); syscall
        assert!(site([0x05, 1, 0, 0, 0, 0x0f, 0x05], 1).is_none());
        // mov %rax,0x10(%rsp): a store
        assert!(site([0x48, 0x89, 0x44, 0x24, 0x10, 0x0f, 0x05], 1).is_none());
        // mov %gs:0x8(%rsp),%ecx: a segment override
        assert!(site([0x65, 0x8b, 0x4c, 0x24, 0x08, 0x0f, 0x05], 1).is_none());
        // not followed by syscall
        assert!(site([0xb8, 39, 0, 0, 0, 0x0f, 0x0b], 39).is_none());
    }

    #[test]
    fn patches_fault_where_the_syscall_was() {
        for t in table_candidates() {
            let p = patch_bytes(t + 0x80);
            assert_eq!(p[5], FAULT_BYTE);
            assert_eq!(patched_entry(&p), Some(t + 0x80));
            assert!(t + TABLE_SIZE <= 1 << 31);
        }
        assert_eq!(patched_entry(&[0xb8, 39, 0, 0, 0, 0x0f, 0x05]), None);
    }

    #[test]
    fn entries_decode_as_documented() {
        let fp = FastPath { trampoline: 0x7fff_fff0_0040, cookie: 0x1234_5678_9abc_def0, cookie_offset: 184 };
        let s = Site { addr: 0x401000, load: [0xb8, 39, 0, 0, 0] };
        let e = fp.entry(0x60080, &s);
        assert_eq!(u64::from_le_bytes(e[0..8].try_into().unwrap()), 0x60080 + ENTRY_DISPLACED);
        assert_eq!(u64::from_le_bytes(e[8..16].try_into().unwrap()), 0x401007);
        let code = &e[16..72];
        let mut d = Decoder::with_ip(64, code, 0x60080 + 16, DecoderOptions::NONE);
        let mut got = Vec::new();
        while d.can_decode() {
            let i = d.decode();
            got.push((i.ip() - 0x60080, i.mnemonic(), i));
        }
        let m: Vec<_> = got.iter().map(|g| (g.0, g.1)).collect();
        assert_eq!(
            &m[..10],
            &[
                (16, Mnemonic::Mov),
                (21, Mnemonic::Mov),
                (30, Mnemonic::Not),
                (33, Mnemonic::Mov),
                (43, Mnemonic::Lea),
                (48, Mnemonic::Jrcxz),
                (ENTRY_SYSCALL, Mnemonic::Syscall),
                (ENTRY_RESUME, Mnemonic::Jmp),
                (58, Mnemonic::Lea),
                (65, Mnemonic::Jmp),
            ]
        );
        let probe = got[1].2;
        assert_eq!(probe.segment_prefix(), Register::GS);
        assert_eq!(probe.memory_displacement64(), 184);
        assert_eq!(probe.op0_register(), Register::R11);
        assert_eq!(got[5].2.near_branch64(), 0x60080 + 58);
        assert_eq!(got[7].2.memory_displacement64(), 0x60080 + ENTRY_RET);
        assert_eq!(got[8].2.memory_displacement64(), 0x60080 + ENTRY_RESUME);
        assert_eq!(got[9].2.memory_displacement64(), 0x60080 + 72);
        assert_eq!(u64::from_le_bytes(e[72..80].try_into().unwrap()), fp.trampoline);
    }
}
