//! Malformed and foreign ELF files for the loader's bad-input tests.
//!
//! Most are made by editing a copy of a real static x86-64 binary, so that exactly one thing is
//! wrong with each; the 32-bit program is written out whole, a tiny valid i386 executable. Only
//! the fields these edits need are parsed here (little-endian ELF64 headers).

/// `p_type` of a loadable segment.
pub const PT_LOAD: u32 = 1;

const EHDR64_SIZE: usize = 64;
const PHDR64_SIZE: usize = 56;

/// One ELF64 program header, with where it sits in the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Phdr {
    /// File offset of this header.
    pub at: usize,
    /// `p_type`.
    pub p_type: u32,
    /// `p_offset`.
    pub offset: u64,
    /// `p_vaddr`.
    pub vaddr: u64,
    /// `p_filesz`.
    pub filesz: u64,
    /// `p_memsz`.
    pub memsz: u64,
    /// `p_align`.
    pub align: u64,
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

fn put_u64(b: &mut [u8], at: usize, v: u64) {
    b[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

/// The ELF64 header fields the edits use: (e_phoff, e_phentsize, e_phnum). Panics unless `b` is
/// a little-endian x86-64 ELF64 file with a whole program header table, i.e. a good starting
/// point for an edit.
pub fn header(b: &[u8]) -> (u64, u16, u16) {
    assert!(
        b.len() >= EHDR64_SIZE && b[..4] == *b"\x7fELF",
        "not an ELF file"
    );
    assert_eq!((b[4], b[5]), (2, 1), "not a little-endian ELF64 file");
    assert_eq!(u16_at(b, 18), 62, "not an x86-64 file");
    let (phoff, phentsize, phnum) = (u64_at(b, 32), u16_at(b, 54), u16_at(b, 56));
    assert_eq!(phentsize as usize, PHDR64_SIZE);
    assert!(
        phoff as usize + phnum as usize * PHDR64_SIZE <= b.len(),
        "truncated already"
    );
    (phoff, phentsize, phnum)
}

/// The program headers of a well-formed ELF64 file.
pub fn phdrs(b: &[u8]) -> Vec<Phdr> {
    let (phoff, _, phnum) = header(b);
    (0..phnum as usize)
        .map(|i| {
            let at = phoff as usize + i * PHDR64_SIZE;
            Phdr {
                at,
                p_type: u32_at(b, at),
                offset: u64_at(b, at + 8),
                vaddr: u64_at(b, at + 16),
                filesz: u64_at(b, at + 32),
                memsz: u64_at(b, at + 40),
                align: u64_at(b, at + 48),
            }
        })
        .collect()
}

/// `b` cut in the middle of its program header table (the ELF header itself stays whole).
pub fn truncate_phdrs(b: &[u8]) -> Vec<u8> {
    let (phoff, _, phnum) = header(b);
    assert!(phnum >= 2);
    let cut = phoff as usize + (phnum as usize / 2) * PHDR64_SIZE + PHDR64_SIZE / 2;
    b[..cut].to_vec()
}

/// `b` with `e_phoff` moved so that the program header table runs past the end of the file.
pub fn phdrs_past_eof(b: &[u8]) -> Vec<u8> {
    let (_, _, phnum) = header(b);
    let mut out = b.to_vec();
    let phoff = (b.len() - PHDR64_SIZE) as u64; // room for one header, not phnum of them
    assert!(phnum >= 2);
    put_u64(&mut out, 32, phoff);
    out
}

/// `b` with its first PT_LOAD grown (in memory size only) one page into the second one, so
/// two loadable segments overlap while everything else, order and alignment included, stays
/// valid.
pub fn overlap_loads(b: &[u8]) -> Vec<u8> {
    let loads: Vec<Phdr> = phdrs(b)
        .into_iter()
        .filter(|p| p.p_type == PT_LOAD)
        .collect();
    assert!(loads.len() >= 2, "need two PT_LOAD segments");
    let (first, second) = (loads[0], loads[1]);
    assert!(second.vaddr > first.vaddr && second.memsz > 0x1000);
    let memsz = second.vaddr + 0x1000 - first.vaddr;
    assert!(memsz > first.memsz && memsz >= first.filesz);
    let mut out = b.to_vec();
    put_u64(&mut out, first.at + 40, memsz);
    out
}

/// A whole, valid 32-bit i386 static executable that exits with `status` through `int $0x80`:
/// one PT_LOAD mapping the file at 0x08048000. Runs natively on a kernel with IA32 emulation.
pub fn i386_exit(status: u8) -> Vec<u8> {
    const BASE: u32 = 0x0804_8000;
    const EHSIZE: u16 = 52;
    const PHENTSIZE: u16 = 32;
    // mov $1,%eax (exit); mov $status,%ebx; int $0x80
    let code = [0xb8, 1, 0, 0, 0, 0xbb, status, 0, 0, 0, 0xcd, 0x80];
    let size = (EHSIZE + PHENTSIZE) as u32 + code.len() as u32;
    let mut b = Vec::with_capacity(size as usize);
    b.extend_from_slice(b"\x7fELF");
    b.extend_from_slice(&[1, 1, 1, 0]); // ELFCLASS32, ELFDATA2LSB, EV_CURRENT, System V ABI
    b.extend_from_slice(&[0; 8]);
    b.extend_from_slice(&2u16.to_le_bytes()); // e_type: ET_EXEC
    b.extend_from_slice(&3u16.to_le_bytes()); // e_machine: EM_386
    b.extend_from_slice(&1u32.to_le_bytes()); // e_version
    b.extend_from_slice(&(BASE + (EHSIZE + PHENTSIZE) as u32).to_le_bytes()); // e_entry
    b.extend_from_slice(&(EHSIZE as u32).to_le_bytes()); // e_phoff
    b.extend_from_slice(&0u32.to_le_bytes()); // e_shoff
    b.extend_from_slice(&0u32.to_le_bytes()); // e_flags
    b.extend_from_slice(&EHSIZE.to_le_bytes());
    b.extend_from_slice(&PHENTSIZE.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes()); // e_phnum
    b.extend_from_slice(&[0; 6]); // e_shentsize, e_shnum, e_shstrndx
                                  // The one program header.
    b.extend_from_slice(&PT_LOAD.to_le_bytes());
    b.extend_from_slice(&0u32.to_le_bytes()); // p_offset
    b.extend_from_slice(&BASE.to_le_bytes()); // p_vaddr
    b.extend_from_slice(&BASE.to_le_bytes()); // p_paddr
    b.extend_from_slice(&size.to_le_bytes()); // p_filesz
    b.extend_from_slice(&size.to_le_bytes()); // p_memsz
    b.extend_from_slice(&5u32.to_le_bytes()); // p_flags: R|X
    b.extend_from_slice(&0x1000u32.to_le_bytes()); // p_align
    b.extend_from_slice(&code);
    assert_eq!(b.len(), size as usize);
    b
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{guest, run, TempDir};
    use std::os::unix::fs::PermissionsExt;
    use std::path::{Path, PathBuf};
    use std::process::Command;

    fn write_exe(dir: &TempDir, name: &str, bytes: &[u8]) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        p
    }

    fn real() -> Vec<u8> {
        std::fs::read(guest("true")).unwrap()
    }

    #[test]
    fn edits_change_only_what_they_say() {
        let b = real();
        let (phoff, _, phnum) = header(&b);
        let t = truncate_phdrs(&b);
        assert!(t.len() > phoff as usize && t.len() < phoff as usize + phnum as usize * 56);
        let p = phdrs_past_eof(&b);
        assert_eq!(p.len(), b.len());
        assert!(u64_at(&p, 32) + u64::from(phnum) * 56 > p.len() as u64);
        let o = overlap_loads(&b);
        let loads: Vec<_> = phdrs(&o)
            .into_iter()
            .filter(|p| p.p_type == PT_LOAD)
            .collect();
        assert!(
            loads[0].vaddr + loads[0].memsz > loads[1].vaddr,
            "no overlap: {loads:?}"
        );
        let diff = b.iter().zip(&o).filter(|(x, y)| x != y).count();
        assert!((1..=8).contains(&diff));
    }

    /// Runs `p` natively. Retries on ETXTBSY: while this thread wrote `p`, another test thread
    /// may have forked, and its child holds the write descriptor until it execs.
    fn exec_native(p: &Path) -> Result<crate::Output, String> {
        for _ in 0..50 {
            match crate::try_run(&mut Command::new(p), crate::timeout()) {
                Err(e) if e.contains("Text file busy") => {
                    std::thread::sleep(std::time::Duration::from_millis(20))
                }
                r => return r,
            }
        }
        Err(format!("{} stayed busy", p.display()))
    }

    /// The native side of the bad-input tests: Linux refuses the truncated tables too; the
    /// i386 program is a real one (it runs where the kernel has IA32 emulation).
    #[test]
    fn native_linux_agrees_these_are_bad_or_foreign() {
        let dir = TempDir::new("elf-native");
        for (name, bytes) in [
            ("trunc", truncate_phdrs(&real())),
            ("past", phdrs_past_eof(&real())),
        ] {
            let p = write_exe(&dir, name, &bytes);
            let r = exec_native(&p);
            assert!(r.is_err(), "Linux ran {name}: {r:?}");
        }
        let p = write_exe(&dir, "i386", &i386_exit(42));
        match exec_native(&p) {
            Ok(o) => assert_eq!(o.status(), 42, "{}", o.describe()),
            Err(e) => assert!(e.contains("format"), "{e}"), // no IA32 emulation: ENOEXEC
        }
        // Sanity of the starting point.
        assert_eq!(run(&mut Command::new(guest("true"))).status(), 0);
    }
}
