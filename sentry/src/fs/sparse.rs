//! A sparse byte store for in-memory files: pages are allocated on first write, holes read as
//! zeros and show as holes to SEEK_HOLE/SEEK_DATA and in st_blocks, as on Linux's tmpfs.

use std::collections::BTreeMap;

const PAGE: u64 = 4096;

/// The contents of one in-memory file.
#[derive(Default)]
pub struct SparseFile {
    pages: BTreeMap<u64, Box<[u8; PAGE as usize]>>,
    size: u64,
}

/// Writes into an iovec list in order.
struct IovCursor<'a> {
    iov: &'a [libc::iovec],
    i: usize,
    at: usize,
    done: usize,
}

impl IovCursor<'_> {
    /// Copies `src` (or zeros when None) of length `n` into the pieces; returns what fitted.
    fn put(&mut self, src: Option<&[u8]>, n: usize) -> usize {
        let mut left = n;
        let mut from = 0;
        while left > 0 && self.i < self.iov.len() {
            let v = &self.iov[self.i];
            let room = v.iov_len - self.at;
            let k = room.min(left);
            // SAFETY: each iovec is writable guest memory checked by the memory manager (or a
            // Sentry buffer); [at, at+k) lies inside it.
            unsafe {
                let dst = v.iov_base.cast::<u8>().add(self.at);
                match src {
                    Some(s) => std::ptr::copy_nonoverlapping(s[from..from + k].as_ptr(), dst, k),
                    None => std::ptr::write_bytes(dst, 0, k),
                }
            }
            self.at += k;
            from += k;
            left -= k;
            self.done += k;
            if self.at == v.iov_len {
                self.i += 1;
                self.at = 0;
            }
        }
        n - left
    }
}

impl SparseFile {
    /// The file size.
    pub fn len(&self) -> u64 {
        self.size
    }

    /// Whether the file is empty.
    pub fn is_empty(&self) -> bool {
        self.size == 0
    }

    /// 512-byte blocks allocated.
    pub fn blocks(&self) -> u64 {
        self.pages.len() as u64 * (PAGE / 512)
    }

    /// Reads from `off` into `iov`; returns the bytes read (short at the end of the file).
    pub fn read(&self, off: u64, iov: &[libc::iovec]) -> usize {
        if off >= self.size {
            return 0;
        }
        let want: u64 = iov.iter().map(|v| v.iov_len as u64).sum::<u64>().min(self.size - off);
        let mut cur = IovCursor { iov, i: 0, at: 0, done: 0 };
        let mut pos = off;
        let end = off + want;
        while pos < end {
            let page = pos / PAGE;
            let in_page = (pos % PAGE) as usize;
            let n = ((PAGE - pos % PAGE).min(end - pos)) as usize;
            let got = match self.pages.get(&page) {
                Some(p) => cur.put(Some(&p[in_page..in_page + n]), n),
                None => cur.put(None, n),
            };
            pos += got as u64;
            if got < n {
                break;
            }
        }
        cur.done
    }

    /// Writes `data` at `off`, growing the file.
    pub fn write(&mut self, off: u64, data: &[u8]) {
        let mut pos = off;
        let mut from = 0;
        while from < data.len() {
            let page = pos / PAGE;
            let in_page = (pos % PAGE) as usize;
            let n = (PAGE as usize - in_page).min(data.len() - from);
            let p = self.pages.entry(page).or_insert_with(|| Box::new([0; PAGE as usize]));
            p[in_page..in_page + n].copy_from_slice(&data[from..from + n]);
            pos += n as u64;
            from += n;
        }
        self.size = self.size.max(off + data.len() as u64);
    }

    /// Sets the size: growing leaves a hole, shrinking drops pages and zeroes the tail.
    pub fn truncate(&mut self, size: u64) {
        if size < self.size {
            self.zero(size, self.size - size);
            let keep = size.div_ceil(PAGE);
            self.pages.split_off(&keep);
        }
        self.size = size;
    }

    /// Zeroes `[off, off+len)` within the file, freeing whole pages.
    pub fn zero(&mut self, off: u64, len: u64) {
        let end = off.saturating_add(len).min(self.size.max(off));
        let mut pos = off;
        while pos < end {
            let page = pos / PAGE;
            let in_page = pos % PAGE;
            let n = (PAGE - in_page).min(end - pos);
            if n == PAGE {
                self.pages.remove(&page);
            } else if let Some(p) = self.pages.get_mut(&page) {
                p[in_page as usize..(in_page + n) as usize].fill(0);
            }
            pos += n;
        }
    }

    /// Allocates `[off, off+len)` (fallocate mode 0 or KEEP_SIZE).
    pub fn allocate(&mut self, off: u64, len: u64, keep_size: bool) {
        let end = off.saturating_add(len);
        let mut page = off / PAGE;
        while page * PAGE < end {
            self.pages.entry(page).or_insert_with(|| Box::new([0; PAGE as usize]));
            page += 1;
        }
        if !keep_size {
            self.size = self.size.max(end);
        }
    }

    /// SEEK_DATA: the first data offset at or after `off`, or None (ENXIO).
    pub fn seek_data(&self, off: u64) -> Option<u64> {
        if off >= self.size {
            return None;
        }
        let page = off / PAGE;
        if self.pages.contains_key(&page) {
            return Some(off);
        }
        self.pages.range(page..).next().map(|(&p, _)| p * PAGE).filter(|&d| d < self.size)
    }

    /// SEEK_HOLE: the first hole at or after `off` (the end of the file counts), or None.
    pub fn seek_hole(&self, off: u64) -> Option<u64> {
        if off >= self.size {
            return None;
        }
        let mut page = off / PAGE;
        while self.pages.contains_key(&page) {
            page += 1;
        }
        Some((page * PAGE).max(off).min(self.size))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(f: &SparseFile) -> Vec<u8> {
        let mut buf = vec![0xffu8; f.len() as usize];
        let iov = [libc::iovec { iov_base: buf.as_mut_ptr().cast(), iov_len: buf.len() }];
        let n = f.read(0, &iov);
        buf.truncate(n);
        buf
    }

    #[test]
    fn holes_read_as_zeros_and_seek_finds_them() {
        let mut f = SparseFile::default();
        f.write(10_000, b"data");
        assert_eq!(f.len(), 10_004);
        let all = read_all(&f);
        assert!(all[..10_000].iter().all(|&b| b == 0));
        assert_eq!(&all[10_000..], b"data");
        assert_eq!(f.seek_data(0), Some(8192));
        assert_eq!(f.seek_hole(0), Some(0));
        assert_eq!(f.seek_hole(9000), Some(10_004));
        assert_eq!(f.seek_data(20_000), None);
        assert_eq!(f.blocks(), 8);
        f.truncate(5);
        assert_eq!(f.blocks(), 0);
        assert_eq!(read_all(&f), vec![0; 5]);
        f.write(0, b"abcdef");
        f.zero(1, 2);
        assert_eq!(read_all(&f), b"a\0\0def");
    }
}
