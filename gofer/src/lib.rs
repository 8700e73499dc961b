//! The Gofer: a separate, confined process that serves files to the Sentry, modeled on
//! gVisor's LISAFS.
//!
//! The Sentry never opens a host path. It asks the gofer, over a SOCK_SEQPACKET socketpair,
//! to walk, open, create and change files beneath a configured set of roots; the gofer
//! answers with ids, stats and, for opened files, the host FD itself (SCM_RIGHTS), so file data
//! never crosses the protocol.
//!
//! - [`proto`]: the messages and their bounds-checked encoding.
//! - [`server`]: the file server ([`Server`], [`serve`], [`Root`]).
//! - [`mod@confine`]: what the gofer process does to itself first (seccomp filter, no_new_privs,
//!   an empty mount namespace where possible).
//! - [`client`]: the Sentry's typed [`Client`].
//! - [`spawn`]: [`socketpair`] and [`gofer_main`] for the launcher.
//!
//! Nothing here trusts the peer: a malformed message is an error value, never a panic.

pub mod client;
pub mod confine;
mod host;
pub mod proto;
pub mod server;
pub mod spawn;
mod wire;

pub use client::{Client, ClientError, Walked, WalkedStats};
pub use confine::{confine, ConfineError, Confined};
pub use proto::{Dirent, FileId, Node, SetStat, StatFs, WalkStatus, Xattr};
pub use server::{serve, Root, ServeError, Server};
pub use spawn::{gofer_main, socketpair};
