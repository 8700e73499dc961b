//! overlay: a read-only lower tree (the host's files, through the Gofer) under a writable upper
//! tmpfs. Reads go to the lower file until the first change, which copies the file (and the
//! directories above it) up; removals of lower names are remembered as whiteouts, and a
//! directory created over a removed one is opaque (the lower one's entries stay hidden).
//!
//! Whiteouts and opacity live in the overlay's own directory nodes, not in the upper
//! filesystem: the upper is private to the Sentry, so nothing else needs to read them.
//! Renaming a directory that exists in the lower tree gives EXDEV, as Linux's overlayfs does
//! without redirect_dir (mv then copies and deletes).

use std::any::Any;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use syscalls::structs::Stat;
use syscalls::Errno;

use crate::vfs::inode::{CreateArgs, DirEntry, FileType, Inode, SetAttr};
use crate::vfs::FileOps;

/// A file or directory of an overlay.
pub struct OverlayInode {
    /// This node itself, for the trait methods that get `&self` but hand out children.
    me: Weak<OverlayInode>,
    /// The directory above (none for the root).
    parent: Option<Weak<OverlayInode>>,
    name: Vec<u8>,
    lower: Option<Arc<dyn Inode>>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    upper: Option<Arc<dyn Inode>>,
    /// Lower names removed in this directory.
    whiteouts: HashSet<Vec<u8>>,
    /// The lower directory's entries are hidden (a directory recreated over a removed one).
    opaque: bool,
    /// Children handed out, so each name has one overlay node (its copy-up state is shared).
    children: HashMap<Vec<u8>, Arc<OverlayInode>>,
    /// Changed since it was copied up: its attributes are the upper copy's from then on.
    dirty: bool,
}

impl OverlayInode {
    /// The root of an overlay of `upper` (a directory, writable) over `lower`.
    pub fn new_root(lower: Arc<dyn Inode>, upper: Arc<dyn Inode>) -> Arc<OverlayInode> {
        Arc::new_cyclic(|me| OverlayInode {
            me: me.clone(),
            parent: None,
            name: b"/".to_vec(),
            lower: Some(lower),
            state: Mutex::new(State { upper: Some(upper), ..Default::default() }),
        })
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn upper(&self) -> Option<Arc<dyn Inode>> {
        self.state().upper.clone()
    }

    /// The inode that answers for this node now: the upper copy if there is one.
    fn current(&self) -> Arc<dyn Inode> {
        match (self.upper(), &self.lower) {
            (Some(u), _) => u,
            (None, Some(l)) => l.clone(),
            (None, None) => unreachable!("an overlay node has an upper or a lower inode"),
        }
    }

    fn child(self: &Arc<Self>, name: &[u8], lower: Option<Arc<dyn Inode>>, upper: Option<Arc<dyn Inode>>) -> Arc<OverlayInode> {
        let node = Arc::new_cyclic(|me| OverlayInode {
            me: me.clone(),
            parent: Some(Arc::downgrade(self)),
            name: name.to_vec(),
            lower,
            state: Mutex::new(State { upper, ..Default::default() }),
        });
        self.state().children.insert(name.to_vec(), node.clone());
        node
    }

    /// Makes sure this node has an upper copy: copies the directories above first, then the
    /// node itself (a directory as an empty one; a file with its data; a symlink).
    fn copy_up(self: &Arc<Self>) -> Result<Arc<dyn Inode>, Errno> {
        if let Some(u) = self.upper() {
            return Ok(u);
        }
        let lower = self.lower.clone().ok_or(Errno::EIO)?;
        let parent = self.parent.as_ref().and_then(Weak::upgrade).ok_or(Errno::ENOENT)?;
        let pu = parent.copy_up()?;
        let st = lower.stat()?;
        let args = CreateArgs { mode: st.st_mode & 0o7777, uid: st.st_uid, gid: st.st_gid };
        let up = match lower.kind() {
            FileType::Directory => pu.mkdir(&self.name, args)?,
            FileType::Symlink => pu.symlink(&self.name, &lower.readlink()?, args)?,
            FileType::Regular => {
                let up = pu.mknod(&self.name, FileType::Regular, args)?;
                copy_data(&lower, &up)?;
                up
            }
            k => pu.mknod(&self.name, k, args)?,
        };
        let times = SetAttr { atime: Some((st.st_atime, st.st_atime_nsec)), mtime: Some((st.st_mtime, st.st_mtime_nsec)), ..Default::default() };
        let _ = up.setattr(&times);
        self.state().upper = Some(up.clone());
        Ok(up)
    }

    /// Whether the lower directory's `name` is visible here.
    fn lower_visible(&self, name: &[u8]) -> bool {
        let s = self.state();
        !s.opaque && !s.whiteouts.contains(name)
    }
}

/// Copies a lower file's bytes into a fresh upper file, 64 KiB at a time.
fn copy_data(from: &Arc<dyn Inode>, to: &Arc<dyn Inode>) -> Result<(), Errno> {
    let src = from.clone().open(libc::O_RDONLY as u32)?;
    let dst = to.clone().open(libc::O_WRONLY as u32)?;
    let mut buf = vec![0u8; 1 << 16];
    let mut off = 0u64;
    loop {
        let iov = [libc::iovec { iov_base: buf.as_mut_ptr().cast(), iov_len: buf.len() }];
        let n = src.read(&iov, off)?;
        if n == 0 {
            return Ok(());
        }
        let iov = [libc::iovec { iov_base: buf.as_mut_ptr().cast(), iov_len: n }];
        dst.write(&iov, off)?;
        off += n as u64;
    }
}

fn downcast(i: &Arc<dyn Inode>) -> Option<Arc<OverlayInode>> {
    let any: Arc<dyn Any + Send + Sync> = i.clone();
    any.downcast::<OverlayInode>().ok()
}

impl Inode for OverlayInode {
    fn kind(&self) -> FileType {
        self.current().kind()
    }

    fn stat(&self) -> Result<Stat, Errno> {
        // Until this sandbox changes it, a node looks exactly like the lower file.
        if let (Some(l), false) = (&self.lower, self.state().dirty) {
            return l.stat();
        }
        let mut st = self.current().stat()?;
        // Keep the number a file had in the lower tree: copy-up must not change it.
        if let Some(l) = &self.lower {
            if self.upper().is_some() {
                if let Ok(ls) = l.stat() {
                    st.st_ino = ls.st_ino;
                    st.st_dev = ls.st_dev;
                }
            }
        }
        Ok(st)
    }

    fn open(self: Arc<Self>, flags: u32) -> Result<Box<dyn FileOps>, Errno> {
        let writes = flags & 3 != 0 || flags & libc::O_TRUNC as u32 != 0;
        let target = if writes && self.kind() == FileType::Regular { self.modify()? } else { self.current() };
        target.open(flags)
    }

    fn setattr(&self, attr: &SetAttr) -> Result<(), Errno> {
        self.modify()?.setattr(attr)
    }

    fn readlink(&self) -> Result<Vec<u8>, Errno> {
        self.current().readlink()
    }

    fn lookup(&self, name: &[u8]) -> Result<Arc<dyn Inode>, Errno> {
        let me = self.self_arc()?;
        if let Some(c) = self.state().children.get(name) {
            return Ok(c.clone());
        }
        let upper = match self.upper() {
            Some(u) => match u.lookup(name) {
                Ok(i) => Some(i),
                Err(Errno::ENOENT) => None,
                Err(e) => return Err(e),
            },
            None => None,
        };
        let lower = match (&self.lower, self.lower_visible(name)) {
            (Some(l), true) => match l.lookup(name) {
                Ok(i) => Some(i),
                Err(Errno::ENOENT) => None,
                Err(e) => return Err(e),
            },
            _ => None,
        };
        // An upper non-directory hides whatever the lower has; an upper directory merges with a
        // lower directory only.
        let lower = match (&upper, lower) {
            (Some(u), Some(l)) if u.kind() == FileType::Directory && l.kind() == FileType::Directory => Some(l),
            (Some(_), _) => None,
            (None, l) => l,
        };
        if upper.is_none() && lower.is_none() {
            return Err(Errno::ENOENT);
        }
        Ok(me.child(name, lower, upper))
    }

    fn mknod(&self, name: &[u8], kind: FileType, args: CreateArgs) -> Result<Arc<dyn Inode>, Errno> {
        self.create(name, |u| u.mknod(name, kind, args))
    }

    fn mkdir(&self, name: &[u8], args: CreateArgs) -> Result<Arc<dyn Inode>, Errno> {
        let was_whiteout = self.state().whiteouts.contains(name);
        let node = self.create(name, |u| u.mkdir(name, args))?;
        if was_whiteout {
            if let Some(n) = downcast(&node) {
                n.state().opaque = true;
            }
        }
        Ok(node)
    }

    fn symlink(&self, name: &[u8], target: &[u8], args: CreateArgs) -> Result<Arc<dyn Inode>, Errno> {
        self.create(name, |u| u.symlink(name, target, args))
    }

    fn link(&self, name: &[u8], target: &Arc<dyn Inode>) -> Result<(), Errno> {
        let t = downcast(target).ok_or(Errno::EXDEV)?;
        let tu = t.copy_up()?;
        if self.exists(name)? {
            return Err(Errno::EEXIST);
        }
        self.modify()?.link(name, &tu)?;
        let mut s = self.state();
        s.whiteouts.remove(name);
        s.children.remove(name);
        Ok(())
    }

    fn unlink(&self, name: &[u8], dir: bool) -> Result<(), Errno> {
        let victim = downcast(&self.lookup(name)?).ok_or(Errno::EIO)?;
        let is_dir = victim.kind() == FileType::Directory;
        match (dir, is_dir) {
            (true, false) => return Err(Errno::ENOTDIR),
            (false, true) => return Err(Errno::EISDIR),
            (true, true) if !victim.readdir()?.is_empty() => return Err(Errno::ENOTEMPTY),
            _ => {}
        }
        let up = self.modify()?;
        if victim.upper().is_some() {
            // A merged directory's upper copy may hold whiteouts only: empty it first.
            up.unlink(name, dir)?;
        }
        let mut s = self.state();
        if victim.lower.is_some() {
            s.whiteouts.insert(name.to_vec());
        }
        s.children.remove(name);
        Ok(())
    }

    fn rename(&self, old: &[u8], new_dir: &Arc<dyn Inode>, new: &[u8], flags: u32) -> Result<(), Errno> {
        const RENAME_EXCHANGE: u32 = 2;
        if flags & RENAME_EXCHANGE != 0 {
            return Err(Errno::EINVAL);
        }
        let nd = downcast(new_dir).ok_or(Errno::EXDEV)?;
        let src = downcast(&self.lookup(old)?).ok_or(Errno::EIO)?;
        if src.kind() == FileType::Directory && src.lower.is_some() {
            return Err(Errno::EXDEV);
        }
        if let Ok(dst) = nd.lookup(new) {
            let dst = downcast(&dst).ok_or(Errno::EIO)?;
            if Arc::ptr_eq(&dst, &src) {
                return Ok(());
            }
            match (src.kind() == FileType::Directory, dst.kind() == FileType::Directory) {
                (true, false) => return Err(Errno::ENOTDIR),
                (false, true) => return Err(Errno::EISDIR),
                (true, true) if !dst.readdir()?.is_empty() => return Err(Errno::ENOTEMPTY),
                _ => {}
            }
            if flags & 1 != 0 {
                return Err(Errno::EEXIST);
            }
            // Remove the lower-only target so the upper rename can take its place.
            if dst.upper().is_none() {
                nd.unlink(new, dst.kind() == FileType::Directory)?;
            }
        }
        src.copy_up()?;
        let from = self.modify()?;
        let to = nd.modify()?;
        from.rename(old, &to, new, flags)?;
        let mut s = self.state();
        if src.lower.is_some() {
            s.whiteouts.insert(old.to_vec());
        }
        s.children.remove(old);
        drop(s);
        let mut ns = nd.state();
        ns.whiteouts.remove(new);
        ns.children.remove(new);
        Ok(())
    }

    /// The lower directory's entries in its own order (minus whiteouts, with upper copies in
    /// their place), then the upper directory's new names.
    fn readdir(&self) -> Result<Vec<DirEntry>, Errno> {
        let (opaque, whiteouts) = {
            let s = self.state();
            (s.opaque, s.whiteouts.clone())
        };
        let upper: Vec<DirEntry> = match self.upper() {
            Some(u) => u.readdir()?,
            None => Vec::new(),
        };
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        if let (Some(l), false) = (&self.lower, opaque) {
            if self.kind() == FileType::Directory {
                for e in l.readdir()? {
                    if !whiteouts.contains(&e.name) {
                        seen.insert(e.name.clone());
                        out.push(e);
                    }
                }
            }
        }
        out.extend(upper.into_iter().filter(|e| !seen.contains(&e.name)));
        Ok(out)
    }

    fn read_only(&self) -> bool {
        false
    }
}

impl OverlayInode {
    /// This node as an Arc.
    fn self_arc(&self) -> Result<Arc<OverlayInode>, Errno> {
        self.me.upgrade().ok_or(Errno::ENOENT)
    }

    /// Copies this node up for a change and marks it changed; returns the upper inode.
    fn modify(&self) -> Result<Arc<dyn Inode>, Errno> {
        let up = self.self_arc()?.copy_up()?;
        self.state().dirty = true;
        Ok(up)
    }

    fn exists(&self, name: &[u8]) -> Result<bool, Errno> {
        match self.lookup(name) {
            Ok(_) => Ok(true),
            Err(Errno::ENOENT) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Creates `name` in the upper copy of this directory with `make`.
    fn create(&self, name: &[u8], make: impl FnOnce(&Arc<dyn Inode>) -> Result<Arc<dyn Inode>, Errno>) -> Result<Arc<dyn Inode>, Errno> {
        if self.exists(name)? {
            return Err(Errno::EEXIST);
        }
        let me = self.self_arc()?;
        let up = self.modify()?;
        let inode = make(&up)?;
        let mut s = self.state();
        s.whiteouts.remove(name);
        s.children.remove(name);
        drop(s);
        Ok(me.child(name, None, Some(inode)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::tmpfs::Tmpfs;

    const ARGS: CreateArgs = CreateArgs { mode: 0o644, uid: 0, gid: 0 };

    fn write_all(i: &Arc<dyn Inode>, data: &[u8]) {
        let f = i.clone().open(libc::O_WRONLY as u32).unwrap();
        let iov = [libc::iovec { iov_base: data.as_ptr().cast_mut().cast(), iov_len: data.len() }];
        f.write(&iov, 0).unwrap();
    }

    fn read_all(i: &Arc<dyn Inode>) -> Vec<u8> {
        let f = i.clone().open(libc::O_RDONLY as u32).unwrap();
        let mut buf = vec![0u8; 256];
        let iov = [libc::iovec { iov_base: buf.as_mut_ptr().cast(), iov_len: buf.len() }];
        let n = f.read(&iov, 0).unwrap();
        buf.truncate(n);
        buf
    }

    fn names(i: &Arc<dyn Inode>) -> Vec<String> {
        let mut v: Vec<String> = i.readdir().unwrap().into_iter().map(|e| String::from_utf8(e.name).unwrap()).collect();
        v.sort();
        v
    }

    /// lower: /etc/hosts ("lower"), /etc/sub/x; upper: empty.
    fn setup() -> (Arc<dyn Inode>, Arc<dyn Inode>) {
        let lower: Arc<dyn Inode> = Tmpfs::new_root(&crate::mm::memory_file::for_tests(), 0o755, 0, 0);
        let etc = lower.mkdir(b"etc", ARGS).unwrap();
        let hosts = etc.mknod(b"hosts", FileType::Regular, ARGS).unwrap();
        write_all(&hosts, b"lower");
        etc.mkdir(b"sub", ARGS).unwrap().mknod(b"x", FileType::Regular, ARGS).unwrap();
        let upper: Arc<dyn Inode> = Tmpfs::new_root(&crate::mm::memory_file::for_tests(), 0o755, 0, 0);
        let root: Arc<dyn Inode> = OverlayInode::new_root(lower.clone(), upper);
        (root, lower)
    }

    #[test]
    fn writes_copy_up_and_leave_the_lower_alone() {
        let (root, lower) = setup();
        let hosts = root.lookup(b"etc").unwrap().lookup(b"hosts").unwrap();
        assert_eq!(read_all(&hosts), b"lower");
        let ino = hosts.stat().unwrap().st_ino;
        write_all(&hosts, b"UPPER");
        assert_eq!(read_all(&hosts), b"UPPER");
        assert_eq!(hosts.stat().unwrap().st_ino, ino, "copy-up keeps the inode number");
        assert_eq!(read_all(&lower.lookup(b"etc").unwrap().lookup(b"hosts").unwrap()), b"lower");
    }

    #[test]
    fn removals_are_whiteouts_and_recreated_dirs_are_opaque() {
        let (root, lower) = setup();
        let etc = root.lookup(b"etc").unwrap();
        etc.mknod(b"new", FileType::Regular, ARGS).unwrap();
        assert_eq!(names(&etc), ["hosts", "new", "sub"]);
        etc.unlink(b"hosts", false).unwrap();
        assert_eq!(etc.lookup(b"hosts").err(), Some(Errno::ENOENT));
        assert_eq!(names(&etc), ["new", "sub"]);
        assert!(lower.lookup(b"etc").unwrap().lookup(b"hosts").is_ok());
        assert_eq!(etc.unlink(b"sub", true), Err(Errno::ENOTEMPTY));
        etc.lookup(b"sub").unwrap().unlink(b"x", false).unwrap();
        etc.unlink(b"sub", true).unwrap();
        let sub = etc.mkdir(b"sub", ARGS).unwrap();
        assert!(names(&sub).is_empty(), "a recreated directory hides the lower one's entries");
    }

    #[test]
    fn rename_of_a_lower_file_moves_it() {
        let (root, _) = setup();
        let etc = root.lookup(b"etc").unwrap();
        etc.rename(b"hosts", &etc, b"hosts2", 0).unwrap();
        assert_eq!(names(&etc), ["hosts2", "sub"]);
        assert_eq!(read_all(&etc.lookup(b"hosts2").unwrap()), b"lower");
        assert_eq!(etc.rename(b"sub", &root, b"sub2", 0), Err(Errno::EXDEV));
    }
}
