//! Path resolution: from a starting directory through names, `..`, mount points and symlinks
//! (at most 40 of them, as Linux), never above the task's root.

use syscalls::Errno;

use super::inode::FileType;
use super::mount::{MountNamespace, VfsPath};

/// Linux's limit on symlinks followed in one resolution.
const MAX_SYMLINKS: u32 = 40;
/// NAME_MAX.
pub const NAME_MAX: usize = 255;

/// Resolves paths for one task: its mount namespace and root.
pub struct Resolver<'a> {
    /// The namespace.
    pub ns: &'a MountNamespace,
    /// The task's root: `..` stops here and absolute paths start here.
    pub root: VfsPath,
}

impl Resolver<'_> {
    /// Resolves `path` from `start`. The last component is followed if it is a symlink only
    /// when `follow` (a trailing slash always follows, and requires a directory).
    pub fn resolve(&self, start: &VfsPath, path: &[u8], follow: bool) -> Result<VfsPath, Errno> {
        if path.is_empty() {
            return Err(Errno::ENOENT);
        }
        let mut links = 0;
        self.walk(start.clone(), path, follow, &mut links)
    }

    /// Resolves all but the last component of `path`: returns the directory, the last name and
    /// whether the path ended with a slash. The last name may be "." or ".." (callers decide
    /// the errno), or empty for "/".
    pub fn resolve_parent(&self, start: &VfsPath, path: &[u8]) -> Result<(VfsPath, Vec<u8>, bool), Errno> {
        if path.is_empty() {
            return Err(Errno::ENOENT);
        }
        let trailing = path.ends_with(b"/");
        let trimmed = {
            let mut p = path;
            while p.len() > 1 && p.ends_with(b"/") {
                p = &p[..p.len() - 1];
            }
            p
        };
        let (dir_part, name) = match trimmed.iter().rposition(|&b| b == b'/') {
            Some(i) => (&trimmed[..=i], &trimmed[i + 1..]),
            None => (&b""[..], trimmed),
        };
        if name.len() > NAME_MAX {
            return Err(Errno::ENAMETOOLONG);
        }
        let dir = if dir_part.is_empty() { start.clone() } else { self.resolve(start, dir_part, true)? };
        if dir.dentry.inode.kind() != FileType::Directory {
            return Err(Errno::ENOTDIR);
        }
        Ok((dir, name.to_vec(), trailing))
    }

    fn walk(&self, mut cur: VfsPath, path: &[u8], follow: bool, links: &mut u32) -> Result<VfsPath, Errno> {
        if path.starts_with(b"/") {
            cur = self.root.clone();
        }
        let trailing = path.ends_with(b"/");
        let comps: Vec<&[u8]> = path.split(|&b| b == b'/').filter(|c| !c.is_empty()).collect();
        for (i, &c) in comps.iter().enumerate() {
            let last = i + 1 == comps.len();
            if cur.dentry.inode.kind() != FileType::Directory {
                return Err(Errno::ENOTDIR);
            }
            if c.len() > NAME_MAX {
                return Err(Errno::ENAMETOOLONG);
            }
            match c {
                b"." => continue,
                b".." => {
                    cur = self.parent_of(cur);
                    continue;
                }
                _ => {}
            }
            let child = cur.dentry.lookup(c)?;
            let next = self.cross_mounts(VfsPath { mount: cur.mount.clone(), dentry: child });
            if next.dentry.inode.kind() == FileType::Symlink && (!last || follow || trailing) {
                *links += 1;
                if *links > MAX_SYMLINKS {
                    return Err(Errno::ELOOP);
                }
                let target = next.dentry.inode.readlink()?;
                if target.is_empty() {
                    return Err(Errno::ENOENT);
                }
                cur = self.walk(cur, &target, true, links)?;
                continue;
            }
            cur = next;
        }
        if trailing && cur.dentry.inode.kind() != FileType::Directory {
            return Err(Errno::ENOTDIR);
        }
        Ok(cur)
    }

    /// Follows mounts stacked on `p` down to the top-most mounted root.
    pub fn cross_mounts(&self, mut p: VfsPath) -> VfsPath {
        while let Some(m) = self.ns.mounted_at(&p) {
            p = VfsPath { dentry: m.root.clone(), mount: m };
        }
        p
    }

    /// `..` of `p`: stays at the root, climbs out of mounts, then to the parent dentry.
    pub fn parent_of(&self, mut p: VfsPath) -> VfsPath {
        loop {
            if p.same(&self.root) {
                return p;
            }
            if p.is_mount_root() {
                match p.mount.parent.clone() {
                    Some((m, d)) => {
                        p = VfsPath { mount: m, dentry: d };
                        continue;
                    }
                    None => return p,
                }
            }
            return match p.dentry.parent() {
                Some(d) => self.cross_mounts(VfsPath { mount: p.mount, dentry: d }),
                None => p,
            };
        }
    }

    /// The absolute path of `p` as seen from the root (for getcwd and /proc).
    pub fn path_of(&self, p: &VfsPath) -> Vec<u8> {
        let mut parts: Vec<Vec<u8>> = Vec::new();
        let mut cur = p.clone();
        for _ in 0..4096 {
            if cur.same(&self.root) {
                break;
            }
            if cur.is_mount_root() {
                match cur.mount.parent.clone() {
                    Some((m, d)) => {
                        cur = VfsPath { mount: m, dentry: d };
                        continue;
                    }
                    None => break,
                }
            }
            parts.push(cur.dentry.name.clone());
            match cur.dentry.parent() {
                Some(d) => cur = VfsPath { mount: cur.mount.clone(), dentry: d },
                None => break,
            }
        }
        if parts.is_empty() {
            return b"/".to_vec();
        }
        let mut out = Vec::new();
        for part in parts.iter().rev() {
            out.push(b'/');
            out.extend_from_slice(part);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use proptest::prelude::*;

    use super::*;
    use crate::fs::tmpfs::Tmpfs;
    use crate::vfs::dentry::Dentry;
    use crate::vfs::inode::CreateArgs;

    const ARGS: CreateArgs = CreateArgs { mode: 0o755, uid: 0, gid: 0 };

    /// A tmpfs with /secret (outside) and /jail (the resolver's root), and entries under the
    /// jail made from `ops`: (directory index, name, symlink target or None for a directory).
    fn world(ops: &[(usize, String, Option<String>)]) -> (MountNamespace, VfsPath, Arc<Dentry>) {
        let top = Dentry::new_root(Tmpfs::new_root(&crate::mm::memory_file::for_tests(), 0o755, 0, 0));
        let secret = top.insert(b"secret", top.inode.mkdir(b"secret", ARGS).unwrap());
        secret.insert(b"shadow", secret.inode.mknod(b"shadow", FileType::Regular, ARGS).unwrap());
        let jail = top.insert(b"jail", top.inode.mkdir(b"jail", ARGS).unwrap());
        let mut dirs = vec![jail.clone()];
        for (at, name, target) in ops {
            let d = dirs[at % dirs.len()].clone();
            match target {
                None => {
                    if let Ok(i) = d.inode.mkdir(name.as_bytes(), ARGS) {
                        dirs.push(d.insert(name.as_bytes(), i));
                    }
                }
                Some(t) => {
                    if let Ok(i) = d.inode.symlink(name.as_bytes(), t.as_bytes(), ARGS) {
                        d.insert(name.as_bytes(), i);
                    }
                }
            }
        }
        let ns = MountNamespace::new(top, "tmpfs", "none", false);
        let root = VfsPath { mount: ns.root().mount, dentry: jail.clone() };
        (ns, root, jail)
    }

    /// Whether `d` is `jail` or below it.
    fn inside(d: &Arc<Dentry>, jail: &Arc<Dentry>) -> bool {
        let mut cur = Some(d.clone());
        while let Some(c) = cur {
            if Arc::ptr_eq(&c, jail) {
                return true;
            }
            cur = c.parent();
        }
        false
    }

    fn component() -> impl Strategy<Value = String> {
        prop_oneof![Just("..".to_string()), Just(".".to_string()), Just("secret".to_string()), Just("jail".to_string()), "[a-c]{1,2}"]
    }

    fn path() -> impl Strategy<Value = String> {
        (any::<bool>(), proptest::collection::vec(component(), 0..8)).prop_map(|(abs, c)| format!("{}{}", if abs { "/" } else { "" }, c.join("/")))
    }

    proptest! {
        /// Whatever the tree, its symlinks and the path, resolution never leaves the root.
        #[test]
        fn no_resolved_path_leaves_its_root(
            ops in proptest::collection::vec((0usize..8, "[a-c]{1,2}", proptest::option::of(path())), 0..24),
            paths in proptest::collection::vec(path(), 1..16),
            follow in any::<bool>(),
        ) {
            let (ns, root, jail) = world(&ops);
            let r = Resolver { ns: &ns, root: root.clone() };
            for p in paths {
                if p.is_empty() {
                    continue;
                }
                match r.resolve(&root, p.as_bytes(), follow) {
                    Ok(found) => prop_assert!(inside(&found.dentry, &jail), "{p} resolved outside the root"),
                    Err(e) => prop_assert!(matches!(e, Errno::ENOENT | Errno::ENOTDIR | Errno::ELOOP | Errno::ENAMETOOLONG), "{p}: {e}"),
                }
                if let Ok((dir, _, _)) = r.resolve_parent(&root, p.as_bytes()) {
                    prop_assert!(inside(&dir.dentry, &jail), "{p}: parent outside the root");
                }
            }
        }
    }

    #[test]
    fn dotdot_and_absolute_symlinks_stay_in_the_root() {
        let ops = vec![(0, "up".to_string(), Some("../../../secret/shadow".to_string())), (0, "abs".to_string(), Some("/secret".to_string()))];
        let (ns, root, jail) = world(&ops);
        let r = Resolver { ns: &ns, root: root.clone() };
        assert_eq!(r.resolve(&root, b"up", true).err(), Some(Errno::ENOENT));
        assert_eq!(r.resolve(&root, b"/../../secret", true).err(), Some(Errno::ENOENT));
        assert_eq!(r.resolve(&root, b"abs", true).err(), Some(Errno::ENOENT));
        assert!(inside(&r.resolve(&root, b"/..", true).unwrap().dentry, &jail));
    }
}
