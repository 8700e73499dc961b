//! ELF64 parsing and validation for x86-64 executables.
//!
//! Everything in the file is hostile: each header field is bounds-checked before use, and a
//! malformed file gives an [`ElfError`] that names the problem, never a panic.

use platform::{Prot, PAGE_SIZE};

/// Why a file cannot be executed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ElfError {
    /// No ELF magic.
    #[error("not an ELF executable or a #! script")]
    NotElf,
    /// ELFCLASS32 or another class.
    #[error("a 32-bit ELF executable; only x86-64 (64-bit) programs can run")]
    Not64Bit,
    /// Big-endian or unknown data encoding.
    #[error("not a little-endian ELF file")]
    NotLittleEndian,
    /// e_machine is not EM_X86_64.
    #[error("an ELF file for another machine (e_machine {0}); only x86-64 programs can run")]
    WrongMachine(u16),
    /// e_type is not ET_EXEC or ET_DYN.
    #[error("not an executable (ELF type {0})")]
    NotExecutable(u16),
    /// The file ends inside a header.
    #[error("truncated ELF file: {0}")]
    Truncated(&'static str),
    /// A header field makes no sense.
    #[error("malformed ELF file: {0}")]
    Malformed(String),
    /// An interpreter that itself asks for an interpreter.
    #[error("the program interpreter {0} is itself dynamically linked")]
    Dynamic(String),
}

/// ET_EXEC loads at its addresses; ET_DYN (static-pie) at a base the loader picks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ElfKind {
    /// Fixed-address executable.
    Exec,
    /// Position-independent executable.
    Dyn,
}

/// A PT_LOAD segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    /// p_vaddr.
    pub vaddr: u64,
    /// p_memsz.
    pub memsz: u64,
    /// p_filesz.
    pub filesz: u64,
    /// p_offset.
    pub offset: u64,
    /// From p_flags.
    pub prot: Prot,
}

/// What the loader needs of a validated executable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ElfImage {
    /// ET_EXEC or ET_DYN.
    pub kind: ElfKind,
    /// e_entry (before relocation for ET_DYN).
    pub entry: u64,
    /// e_phoff.
    pub phoff: u64,
    /// e_phnum.
    pub phnum: u16,
    /// PT_LOAD segments in ascending address order, non-overlapping.
    pub segments: Vec<Segment>,
    /// p_vaddr of PT_PHDR, if present.
    pub phdr_vaddr: Option<u64>,
    /// PT_GNU_STACK asks for an executable stack.
    pub exec_stack: bool,
    /// PT_INTERP: the dynamic loader's path, for dynamically linked programs.
    pub interp: Option<Vec<u8>>,
    /// The file's version, when known: read-only segments then come from the page cache.
    pub file: Option<crate::mm::page_cache::FileId>,
}

const PT_LOAD: u32 = 1;
const PT_INTERP: u32 = 3;
const PT_PHDR: u32 = 6;
const PT_GNU_STACK: u32 = 0x6474_e551;
const EHDR_SIZE: usize = 64;
const PHDR_SIZE: usize = 56;
/// Linux refuses more than 64 KiB of program headers.
const MAX_PHNUM: usize = 65536 / PHDR_SIZE;
/// Addresses must stay within the 47-bit user address space.
const USER_LIMIT: u64 = 1 << 47;

fn u16_at(b: &[u8], o: usize) -> u16 {
    u16::from_le_bytes([b[o], b[o + 1]])
}
fn u32_at(b: &[u8], o: usize) -> u32 {
    u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]])
}
fn u64_at(b: &[u8], o: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[o..o + 8]);
    u64::from_le_bytes(a)
}

/// Parses and validates an executable held in memory.
pub fn parse(file: &[u8]) -> Result<ElfImage, ElfError> {
    if file.len() < 4 || &file[..4] != b"\x7fELF" {
        return Err(ElfError::NotElf);
    }
    if file.len() < EHDR_SIZE {
        return Err(ElfError::Truncated("the ELF header is cut short"));
    }
    if file[4] != 2 {
        return Err(ElfError::Not64Bit);
    }
    if file[5] != 1 {
        return Err(ElfError::NotLittleEndian);
    }
    let e_type = u16_at(file, 16);
    let machine = u16_at(file, 18);
    if machine != 62 {
        return Err(ElfError::WrongMachine(machine));
    }
    let kind = match e_type {
        2 => ElfKind::Exec,
        3 => ElfKind::Dyn,
        t => return Err(ElfError::NotExecutable(t)),
    };
    let entry = u64_at(file, 24);
    let phoff = u64_at(file, 32);
    let phentsize = u16_at(file, 54);
    let phnum = u16_at(file, 56);
    if usize::from(phentsize) != PHDR_SIZE {
        return Err(ElfError::Malformed(format!("program header size {phentsize}, expected {PHDR_SIZE}")));
    }
    if phnum == 0 || usize::from(phnum) > MAX_PHNUM {
        return Err(ElfError::Malformed(format!("{phnum} program headers")));
    }
    let ph_end = phoff
        .checked_add(u64::from(phnum) * PHDR_SIZE as u64)
        .filter(|&e| e <= file.len() as u64)
        .ok_or(ElfError::Truncated("the program header table runs past the end of the file"))?;
    let table = &file[phoff as usize..ph_end as usize];

    let mut segments = Vec::new();
    let mut phdr_vaddr = None;
    let mut exec_stack = false;
    let mut interp = None;
    for ph in table.chunks_exact(PHDR_SIZE) {
        let p_type = u32_at(ph, 0);
        let flags = u32_at(ph, 4);
        let offset = u64_at(ph, 8);
        let vaddr = u64_at(ph, 16);
        let filesz = u64_at(ph, 32);
        let memsz = u64_at(ph, 40);
        let align = u64_at(ph, 48);
        match p_type {
            PT_LOAD => {
                if filesz > memsz {
                    return Err(ElfError::Malformed(format!("segment at {vaddr:#x} has more file bytes than memory bytes")));
                }
                if offset.checked_add(filesz).is_none_or(|e| e > file.len() as u64) {
                    return Err(ElfError::Truncated("a segment's data runs past the end of the file"));
                }
                if vaddr.checked_add(memsz).is_none_or(|e| e > USER_LIMIT) {
                    return Err(ElfError::Malformed(format!("segment at {vaddr:#x} is outside the user address space")));
                }
                if align > 1 && align.is_power_of_two() && vaddr % PAGE_SIZE != offset % PAGE_SIZE {
                    return Err(ElfError::Malformed(format!("segment at {vaddr:#x} is not congruent to its file offset")));
                }
                if memsz == 0 {
                    continue;
                }
                let prot = Prot { read: flags & 4 != 0, write: flags & 2 != 0, exec: flags & 1 != 0 };
                segments.push(Segment { vaddr, memsz, filesz, offset, prot });
            }
            PT_INTERP => {
                let end = offset.checked_add(filesz).filter(|&e| e <= file.len() as u64).ok_or(ElfError::Truncated("the interpreter's name runs past the end of the file"))?;
                let raw = &file[offset as usize..end as usize];
                let name = raw.split(|&b| b == 0).next().unwrap_or_default();
                if name.is_empty() || name.len() >= 4096 || !raw.contains(&0) {
                    return Err(ElfError::Malformed("a malformed interpreter name".into()));
                }
                interp = Some(name.to_vec());
            }
            PT_PHDR => phdr_vaddr = Some(vaddr),
            PT_GNU_STACK => exec_stack = flags & 1 != 0,
            _ => {}
        }
    }
    if segments.is_empty() {
        return Err(ElfError::Malformed("no loadable segments".into()));
    }
    // Linux requires PT_LOAD entries in ascending order; overlapping bytes are never valid.
    for w in segments.windows(2) {
        if w[1].vaddr < w[0].vaddr + w[0].memsz {
            return Err(ElfError::Malformed(format!(
                "segments overlap ({:#x}+{:#x} and {:#x})",
                w[0].vaddr, w[0].memsz, w[1].vaddr
            )));
        }
    }
    let lo = segments[0].vaddr;
    let hi = segments.last().map_or(lo, |s| s.vaddr + s.memsz);
    if !(lo..hi).contains(&entry) && kind == ElfKind::Exec {
        return Err(ElfError::Malformed(format!("entry point {entry:#x} is outside the loaded image")));
    }
    Ok(ElfImage { kind, entry, phoff, phnum, segments, phdr_vaddr, exec_stack, interp, file: None })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A minimal valid ET_EXEC with the given PT_LOAD (vaddr, memsz, filesz, offset) list.
    fn elf(loads: &[(u64, u64, u64, u64)]) -> Vec<u8> {
        let mut f = vec![0u8; 4096];
        f[..4].copy_from_slice(b"\x7fELF");
        f[4] = 2;
        f[5] = 1;
        f[6] = 1;
        f[16..18].copy_from_slice(&2u16.to_le_bytes());
        f[18..20].copy_from_slice(&62u16.to_le_bytes());
        f[24..32].copy_from_slice(&loads[0].0.to_le_bytes());
        f[32..40].copy_from_slice(&64u64.to_le_bytes());
        f[54..56].copy_from_slice(&56u16.to_le_bytes());
        f[56..58].copy_from_slice(&(loads.len() as u16).to_le_bytes());
        for (i, &(vaddr, memsz, filesz, offset)) in loads.iter().enumerate() {
            let p = 64 + i * 56;
            f[p..p + 4].copy_from_slice(&PT_LOAD.to_le_bytes());
            f[p + 4..p + 8].copy_from_slice(&5u32.to_le_bytes());
            f[p + 8..p + 16].copy_from_slice(&offset.to_le_bytes());
            f[p + 16..p + 24].copy_from_slice(&vaddr.to_le_bytes());
            f[p + 32..p + 40].copy_from_slice(&filesz.to_le_bytes());
            f[p + 40..p + 48].copy_from_slice(&memsz.to_le_bytes());
            f[p + 48..p + 56].copy_from_slice(&4096u64.to_le_bytes());
        }
        f
    }

    #[test]
    fn accepts_a_minimal_executable() {
        let img = parse(&elf(&[(0x400000, 0x1000, 0x100, 0)])).unwrap();
        assert_eq!(img.kind, ElfKind::Exec);
        assert_eq!(img.segments.len(), 1);
    }

    #[test]
    fn rejects_bad_files() {
        assert_eq!(parse(b"#!/bin/sh\n"), Err(ElfError::NotElf));
        let mut f = elf(&[(0x400000, 0x1000, 0x100, 0)]);
        f[4] = 1;
        assert_eq!(parse(&f), Err(ElfError::Not64Bit));
        let f = elf(&[(0x400000, 0x1000, 0x100, 0)]);
        assert!(matches!(parse(&f[..100]), Err(ElfError::Truncated(_))));
        let f = elf(&[(0x400000, 0x2000, 0x100, 0), (0x401800, 0x1000, 0x100, 0x800)]);
        assert!(matches!(parse(&f), Err(ElfError::Malformed(m)) if m.contains("overlap")));
        let f = elf(&[(0x400000, 0x200000, 0x100000, 0)]);
        assert!(matches!(parse(&f), Err(ElfError::Truncated(_))));
        let f = elf(&[(u64::MAX - 10, 0x1000, 0, 0)]);
        assert!(matches!(parse(&f), Err(ElfError::Malformed(_))));
    }

    proptest! {
        /// No input panics the parser, and whatever it accepts is internally consistent.
        #[test]
        fn never_panics(mutations in proptest::collection::vec((0usize..400, any::<u8>()), 0..40), cut in 0usize..4096) {
            let mut f = elf(&[(0x400000, 0x1000, 0x100, 0), (0x402000, 0x3000, 0x200, 0x1000)]);
            for (at, b) in mutations { f[at] = b; }
            f.truncate(cut.max(1));
            if let Ok(img) = parse(&f) {
                for s in &img.segments {
                    prop_assert!(s.filesz <= s.memsz);
                    prop_assert!(s.offset + s.filesz <= f.len() as u64);
                    prop_assert!(s.vaddr + s.memsz <= USER_LIMIT);
                }
                for w in img.segments.windows(2) {
                    prop_assert!(w[0].vaddr + w[0].memsz <= w[1].vaddr);
                }
            }
        }
    }
}
