//! /proc/<pid>/maps, smaps and smaps_rollup: a process's VMAs as Linux shows them, and how
//! much of each is backed by memory (the memory file's pages that hold data).

use std::fmt::Write;

use crate::kernel::Kernel;
use crate::mm::{Vma, VmaKind, VmaLock};

use super::ProcessInfo;

/// One line of maps (and a VMA's first line in smaps) with what smaps adds: bytes backed by
/// memory and their proportional share.
struct Shown {
    vma: Vma,
    name: String,
    rss: u64,
    pss: u64,
}

/// The VMAs as Linux would show them: neighbours with the same protection, purpose and memory
/// merged, as Linux merges them (image segments stay apart).
fn shown(k: &Kernel, p: &ProcessInfo) -> Vec<Shown> {
    let mut out: Vec<Shown> = Vec::new();
    for v in p.maps.lock().unwrap_or_else(|e| e.into_inner()).iter() {
        let (rss, pss) = backed(k, v);
        match out.last_mut() {
            Some(l) if l.vma.end == v.start && l.vma.prot == v.prot && l.vma.kind == v.kind && l.vma.shared == v.shared && v.kind != VmaKind::Image => {
                l.vma.end = v.end;
                l.rss += rss;
                l.pss += pss;
            }
            _ => out.push(Shown { vma: *v, name: name_of(k, p, v), rss, pss }),
        }
    }
    out
}

/// Bytes of `v` backed by memory, and its proportional share (memory shared with other
/// mappings counts for each a part).
fn backed(k: &Kernel, v: &Vma) -> (u64, u64) {
    let mut rss = 0;
    k.memory_file.data_ranges(v.offset, v.end - v.start, |a, b| rss += b - a);
    let sharers = v.region().and_then(|r| k.memory_file.share_count(r)).unwrap_or(1).max(1) as u64;
    (rss, rss / sharers)
}

fn name_of(k: &Kernel, p: &ProcessInfo, v: &Vma) -> String {
    if let Some(special) = crate::loader::vdso::name_of(&k.memory_file, v.shared) {
        return special.into();
    }
    match v.kind {
        VmaKind::Image => String::from_utf8_lossy(&p.exe).into_owned(),
        VmaKind::Heap => "[heap]".into(),
        VmaKind::Stack => "[stack]".into(),
        // The file's name is not kept with the mapping: shown unnamed, as anonymous memory is.
        VmaKind::Anon | VmaKind::SharedFile { .. } => String::new(),
        VmaKind::Shm { key } => format!("/SYSV{key:08x} (deleted)"),
    }
}

fn line(s: &Shown, out: &mut String) {
    let v = &s.vma;
    let shared = v.shared.is_some() && !s.name.starts_with("[v");
    let perms = format!(
        "{}{}{}{}",
        if v.prot.read { 'r' } else { '-' },
        if v.prot.write { 'w' } else { '-' },
        if v.prot.exec { 'x' } else { '-' },
        if shared { 's' } else { 'p' }
    );
    let head = format!("{:08x}-{:08x} {perms} 00000000 00:00 0", v.start, v.end);
    if s.name.is_empty() {
        let _ = writeln!(out, "{head}");
    } else {
        let _ = writeln!(out, "{head:<73}{}", s.name);
    }
}

/// /proc/<pid>/maps.
pub fn maps(k: &Kernel, p: &ProcessInfo) -> Vec<u8> {
    let mut out = String::new();
    for s in shown(k, p) {
        line(&s, &mut out);
    }
    out.into_bytes()
}

/// The counters of one smaps entry, in kB.
#[derive(Default)]
struct Counters {
    size: u64,
    rss: u64,
    pss: u64,
    shared: u64,
    private: u64,
    anonymous: u64,
    locked: u64,
}

impl Counters {
    fn of(s: &Shown) -> Counters {
        let v = &s.vma;
        let kb = |b: u64| b / 1024;
        let is_shared = v.shared.is_some() || v.cow.is_some();
        let anon = v.shared.is_none() && v.kind != VmaKind::Image;
        Counters {
            size: kb(v.end - v.start),
            rss: kb(s.rss),
            pss: kb(s.pss),
            shared: if is_shared && s.pss < s.rss { kb(s.rss) } else { 0 },
            private: if is_shared && s.pss < s.rss { 0 } else { kb(s.rss) },
            anonymous: if anon { kb(s.rss) } else { 0 },
            locked: if v.lock != VmaLock::Unlocked { kb(s.pss) } else { 0 },
        }
    }

    fn add(&mut self, o: &Counters) {
        self.size += o.size;
        self.rss += o.rss;
        self.pss += o.pss;
        self.shared += o.shared;
        self.private += o.private;
        self.anonymous += o.anonymous;
        self.locked += o.locked;
    }

    fn write(&self, out: &mut String, with_size: bool) {
        let mut row = |name: &str, v: u64| {
            let _ = writeln!(out, "{:<16}{v:>8} kB", format!("{name}:"));
        };
        if with_size {
            row("Size", self.size);
            row("KernelPageSize", 4);
            row("MMUPageSize", 4);
        }
        row("Rss", self.rss);
        row("Pss", self.pss);
        row("Pss_Dirty", self.pss);
        if !with_size {
            row("Pss_Anon", self.anonymous);
            row("Pss_File", 0);
            row("Pss_Shmem", self.pss - self.pss.min(self.anonymous));
        }
        row("Shared_Clean", 0);
        row("Shared_Dirty", self.shared);
        row("Private_Clean", 0);
        row("Private_Dirty", self.private);
        row("Referenced", self.rss);
        row("Anonymous", self.anonymous);
        row("KSM", 0);
        row("LazyFree", 0);
        row("AnonHugePages", 0);
        row("ShmemPmdMapped", 0);
        row("FilePmdMapped", 0);
        row("Shared_Hugetlb", 0);
        row("Private_Hugetlb", 0);
        row("Swap", 0);
        row("SwapPss", 0);
        row("Locked", self.locked);
    }
}

/// /proc/<pid>/smaps.
pub fn smaps(k: &Kernel, p: &ProcessInfo) -> Vec<u8> {
    let mut out = String::new();
    for s in shown(k, p) {
        line(&s, &mut out);
        Counters::of(&s).write(&mut out, true);
        let v = &s.vma;
        let _ = writeln!(out, "THPeligible:    0");
        let mut flags = String::new();
        for (on, f) in [(v.prot.read, "rd"), (v.prot.write, "wr"), (v.prot.exec, "ex"), (v.shared.is_some(), "sh"), (true, "mr"), (true, "mw"), (true, "me")] {
            if on {
                flags += f;
                flags += " ";
            }
        }
        if v.shared.is_some() {
            flags += "ms ";
        }
        if v.kind == VmaKind::Stack {
            flags += "gd ";
        }
        if v.lock != VmaLock::Unlocked {
            flags += "lo ";
        }
        if v.dont_fork {
            flags += "dc ";
        }
        if v.wipe_on_fork {
            flags += "wf ";
        }
        if v.shared.is_none() {
            flags += "ac ";
        }
        let _ = writeln!(out, "VmFlags: {flags}");
    }
    out.into_bytes()
}

/// /proc/<pid>/smaps_rollup: the sums over every VMA.
pub fn smaps_rollup(k: &Kernel, p: &ProcessInfo) -> Vec<u8> {
    let all = shown(k, p);
    let mut total = Counters::default();
    for s in &all {
        total.add(&Counters::of(s));
    }
    let (lo, hi) = (all.first().map_or(0, |s| s.vma.start), all.last().map_or(0, |s| s.vma.end));
    let mut out = format!("{:<73}[rollup]\n", format!("{lo:08x}-{hi:08x} ---p 00000000 00:00 0"));
    total.write(&mut out, false);
    out.into_bytes()
}

/// (VmSize, VmRSS) in kB, for /proc/<pid>/status.
pub fn totals(k: &Kernel, p: &ProcessInfo) -> (u64, u64) {
    let mut total = Counters::default();
    for s in shown(k, p) {
        total.add(&Counters::of(&s));
    }
    (total.size, total.rss)
}
