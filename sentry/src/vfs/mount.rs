//! Mounts and the mount namespace, and [`VfsPath`]: a place in the tree (mount + dentry).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use super::dentry::Dentry;

/// A filesystem mounted somewhere.
pub struct Mount {
    /// Mount id (as in /proc/self/mountinfo).
    pub id: u64,
    /// The mounted filesystem's root.
    pub root: Arc<Dentry>,
    /// Where it is mounted: the parent mount and the dentry covered (none for the root mount).
    pub parent: Option<(Arc<Mount>, Arc<Dentry>)>,
    /// MS_RDONLY (a remount may change it).
    read_only: AtomicBool,
    /// The filesystem type ("tmpfs", "gofer", "overlay"...).
    pub fs_type: &'static str,
    /// The source shown in /proc/self/mounts.
    pub source: String,
}

impl Mount {
    /// Whether writes through this mount are refused (EROFS).
    pub fn read_only(&self) -> bool {
        self.read_only.load(Ordering::Relaxed)
    }

    /// MS_REMOUNT: changes MS_RDONLY.
    pub fn set_read_only(&self, ro: bool) {
        self.read_only.store(ro, Ordering::Relaxed);
    }
}

/// A place in the tree.
#[derive(Clone)]
pub struct VfsPath {
    /// The mount the dentry is reached through.
    pub mount: Arc<Mount>,
    /// The dentry.
    pub dentry: Arc<Dentry>,
}

impl VfsPath {
    /// Whether two paths are the same place.
    pub fn same(&self, o: &VfsPath) -> bool {
        Arc::ptr_eq(&self.mount, &o.mount) && Arc::ptr_eq(&self.dentry, &o.dentry)
    }

    /// Whether this is the root of its mount.
    pub fn is_mount_root(&self) -> bool {
        Arc::ptr_eq(&self.dentry, &self.mount.root)
    }
}

/// All mounts of a sandbox.
pub struct MountNamespace {
    root: Arc<Mount>,
    mounts: RwLock<Vec<Arc<Mount>>>,
    next_id: AtomicU64,
}

impl MountNamespace {
    /// A namespace whose root is `root` (a filesystem root dentry).
    pub fn new(root: Arc<Dentry>, fs_type: &'static str, source: &str, read_only: bool) -> MountNamespace {
        let m = Arc::new(Mount { id: 1, root, parent: None, read_only: AtomicBool::new(read_only), fs_type, source: source.into() });
        MountNamespace { root: m.clone(), mounts: RwLock::new(vec![m]), next_id: AtomicU64::new(2) }
    }

    /// The root of the namespace.
    pub fn root(&self) -> VfsPath {
        VfsPath { mount: self.root.clone(), dentry: self.root.root.clone() }
    }

    /// Mounts a filesystem rooted at `root` over `at`.
    pub fn mount(&self, at: &VfsPath, root: Arc<Dentry>, fs_type: &'static str, source: &str, read_only: bool) -> Arc<Mount> {
        let m = Arc::new(Mount {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            root,
            parent: Some((at.mount.clone(), at.dentry.clone())),
            read_only: AtomicBool::new(read_only),
            fs_type,
            source: source.into(),
        });
        self.mounts.write().unwrap_or_else(|e| e.into_inner()).push(m.clone());
        m
    }

    /// The most recent mount over (`mount`, `dentry`), if any.
    pub fn mounted_at(&self, p: &VfsPath) -> Option<Arc<Mount>> {
        let mounts = self.mounts.read().unwrap_or_else(|e| e.into_inner());
        mounts
            .iter()
            .rev()
            .find(|m| m.parent.as_ref().is_some_and(|(pm, pd)| Arc::ptr_eq(pm, &p.mount) && Arc::ptr_eq(pd, &p.dentry)))
            .cloned()
    }

    /// Removes `m` (umount2). EBUSY while other mounts sit on top of or below it, unless
    /// `detach` (MNT_DETACH), which removes those too.
    pub fn unmount(&self, m: &Arc<Mount>, detach: bool) -> Result<(), syscalls::Errno> {
        if m.parent.is_none() {
            return Err(syscalls::Errno::EINVAL);
        }
        let mut mounts = self.mounts.write().unwrap_or_else(|e| e.into_inner());
        let below = |c: &Arc<Mount>| c.parent.as_ref().is_some_and(|(pm, _)| Arc::ptr_eq(pm, m));
        if !detach && mounts.iter().any(below) {
            return Err(syscalls::Errno::EBUSY);
        }
        // With MNT_DETACH, everything mounted under `m` goes as well.
        let mut doomed = vec![m.clone()];
        let mut i = 0;
        while i < doomed.len() {
            let d = doomed[i].clone();
            doomed.extend(mounts.iter().filter(|c| c.parent.as_ref().is_some_and(|(pm, _)| Arc::ptr_eq(pm, &d))).cloned());
            i += 1;
        }
        mounts.retain(|c| !doomed.iter().any(|d| Arc::ptr_eq(c, d)));
        Ok(())
    }

    /// Every mount, in mount order.
    pub fn all(&self) -> Vec<Arc<Mount>> {
        self.mounts.read().unwrap_or_else(|e| e.into_inner()).clone()
    }
}
