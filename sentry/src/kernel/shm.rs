//! SysV shared memory segments (the sandbox's IPC namespace): ids, keys, permissions and the
//! times and pids shmctl reports. A segment's memory is a shared region of the memory file;
//! the registry holds one reference until IPC_RMID and every attached VMA holds one more, so
//! the attach count is the region's reference count (Linux counts VMAs too), and the memory
//! goes with the last detach of a removed segment.

use std::collections::BTreeMap;
use std::sync::Mutex;

use syscalls::Errno;

use crate::mm::MemoryFile;

/// SHMMNI: segments at most.
pub const SHMMNI: usize = 4096;
/// SHMMAX and SHMALL as Linux sets them (effectively unlimited).
pub const SHMMAX: u64 = u64::MAX - (1 << 24);

/// One segment.
#[derive(Clone, Copy, Debug)]
pub struct Segment {
    pub key: i32,
    pub size: u64,
    /// Start of its shared region in the memory file.
    pub region: u64,
    /// Permission bits (the low 9) and SHM_DEST / SHM_LOCKED flags.
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub cuid: u32,
    pub cgid: u32,
    pub cpid: i32,
    pub lpid: i32,
    pub atime: i64,
    pub dtime: i64,
    pub ctime: i64,
    /// Sequence number (part of the id, and ipc_perm.__seq).
    pub seq: u16,
    /// IPC_RMID was asked: the key is free and the segment goes with its last attach.
    pub removed: bool,
}

/// SHM_DEST in the mode a removed segment shows.
pub const SHM_DEST: u32 = 0o1000;

/// The registry.
#[derive(Default)]
pub struct Registry {
    segs: Mutex<BTreeMap<usize, Segment>>,
    seq: Mutex<u16>,
}

/// Seconds since the epoch, for the times shmctl shows.
pub fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// A segment's id from its slot and sequence, as Linux builds them.
fn id_of(slot: usize, seq: u16) -> i32 {
    i32::from(seq) * 32768 + slot as i32
}

impl Registry {
    fn lock(&self, mf: &MemoryFile) -> std::sync::MutexGuard<'_, BTreeMap<usize, Segment>> {
        let mut g = self.segs.lock().unwrap_or_else(|e| e.into_inner());
        // Removed segments whose last attach went are gone.
        g.retain(|_, s| !s.removed || mf.share_count(s.region).is_some());
        g
    }

    /// The segment with `key` (not removed), as (id, segment).
    pub fn by_key(&self, mf: &MemoryFile, key: i32) -> Option<(i32, Segment)> {
        self.lock(mf).iter().find(|(_, s)| s.key == key && !s.removed).map(|(&slot, s)| (id_of(slot, s.seq), *s))
    }

    /// The segment `id`: EINVAL if there is none.
    pub fn get(&self, mf: &MemoryFile, id: i32) -> Result<Segment, Errno> {
        let slot = (id.max(0) % 32768) as usize;
        match self.lock(mf).get(&slot) {
            Some(s) if id >= 0 && id_of(slot, s.seq) == id => Ok(*s),
            _ => Err(Errno::EINVAL),
        }
    }

    /// Changes segment `id` with `f`.
    pub fn update<R>(&self, mf: &MemoryFile, id: i32, f: impl FnOnce(&mut Segment) -> Result<R, Errno>) -> Result<R, Errno> {
        let slot = (id.max(0) % 32768) as usize;
        let mut g = self.lock(mf);
        match g.get_mut(&slot) {
            Some(s) if id >= 0 && id_of(slot, s.seq) == id => f(s),
            _ => Err(Errno::EINVAL),
        }
    }

    /// Changes the segment whose memory is `region`, if it is still there.
    pub fn with_region(&self, mf: &MemoryFile, region: u64, f: impl FnOnce(&mut Segment)) {
        if let Some(s) = self.lock(mf).values_mut().find(|s| s.region == region) {
            f(s);
        }
    }

    /// Adds a new segment (its region already allocated with one reference); ENOSPC past
    /// SHMMNI.
    pub fn insert(&self, mf: &MemoryFile, mut s: Segment) -> Result<i32, Errno> {
        let mut g = self.lock(mf);
        let slot = (0..SHMMNI).find(|i| !g.contains_key(i)).ok_or(Errno::ENOSPC)?;
        let mut seq = self.seq.lock().unwrap_or_else(|e| e.into_inner());
        *seq = seq.wrapping_add(1) % 0xffff;
        s.seq = *seq;
        g.insert(slot, s);
        Ok(id_of(slot, s.seq))
    }

    /// Live segments and the highest slot in use (IPC_INFO, SHM_INFO).
    pub fn census(&self, mf: &MemoryFile) -> (Vec<Segment>, usize) {
        let g = self.lock(mf);
        (g.values().copied().collect(), g.keys().next_back().copied().unwrap_or(0))
    }

    /// The segment in `slot` (SHM_STAT takes a slot, not an id), with its id.
    pub fn at_slot(&self, mf: &MemoryFile, slot: usize) -> Option<(i32, Segment)> {
        self.lock(mf).get(&slot).map(|s| (id_of(slot, s.seq), *s))
    }
}
