//! Mounts and the mount namespace, and [`VfsPath`]: a place in the tree (mount + dentry).

use std::sync::atomic::{AtomicU64, Ordering};
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
    /// MS_RDONLY.
    pub read_only: bool,
    /// The filesystem type ("tmpfs", "gofer", "overlay"...).
    pub fs_type: &'static str,
    /// The source shown in /proc/self/mounts.
    pub source: String,
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
        let m = Arc::new(Mount { id: 1, root, parent: None, read_only, fs_type, source: source.into() });
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
            read_only,
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

    /// Every mount, in mount order.
    pub fn all(&self) -> Vec<Arc<Mount>> {
        self.mounts.read().unwrap_or_else(|e| e.into_inner()).clone()
    }
}
