//! Dentries: the name cache. A Dentry is a name in a parent directory bound to an inode;
//! looked-up children stay cached in their parent until the name is removed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use syscalls::Errno;

use super::inode::Inode;

/// A cached name.
pub struct Dentry {
    /// The name in the parent ("/" for a filesystem root).
    pub name: Vec<u8>,
    /// The parent (none for a filesystem root). Weak: parents hold their children.
    parent: Option<Weak<Dentry>>,
    /// The file.
    pub inode: Arc<dyn Inode>,
    children: Mutex<HashMap<Vec<u8>, Arc<Dentry>>>,
}

impl Dentry {
    /// A filesystem's root.
    pub fn new_root(inode: Arc<dyn Inode>) -> Arc<Dentry> {
        Arc::new(Dentry { name: b"/".to_vec(), parent: None, inode, children: Mutex::default() })
    }

    /// The parent, if any (a removed directory's parent may be gone).
    pub fn parent(&self) -> Option<Arc<Dentry>> {
        self.parent.as_ref().and_then(Weak::upgrade)
    }

    fn children(&self) -> std::sync::MutexGuard<'_, HashMap<Vec<u8>, Arc<Dentry>>> {
        self.children.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The child called `name`, from the cache or the filesystem.
    pub fn lookup(self: &Arc<Self>, name: &[u8]) -> Result<Arc<Dentry>, Errno> {
        let cached = self.children().get(name).cloned();
        if let Some(d) = cached {
            if d.inode.revalidate() {
                return Ok(d);
            }
            self.forget(name);
        }
        let inode = self.inode.lookup(name)?;
        Ok(self.insert(name, inode))
    }

    /// Caches `inode` as the child `name` (after a create).
    pub fn insert(self: &Arc<Self>, name: &[u8], inode: Arc<dyn Inode>) -> Arc<Dentry> {
        let d = Arc::new(Dentry { name: name.to_vec(), parent: Some(Arc::downgrade(self)), inode, children: Mutex::default() });
        self.children().insert(name.to_vec(), d.clone());
        d
    }

    /// Forgets the child `name` (after unlink or rename).
    pub fn forget(&self, name: &[u8]) {
        self.children().remove(name);
    }
}
