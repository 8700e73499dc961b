//! The Linux x86-64 system call ABI as data: numbers, names, argument schemas, errno values,
//! flag types and the `repr(C)` structs guests pass, plus strace-style formatting.
//!
//! This crate does no I/O and contains no `unsafe`: the Sentry reads guest memory and hands
//! bytes (or a [`strace::GuestReader`]) in.

#![forbid(unsafe_code)]

pub mod errno;
pub mod flags;
pub mod nr;
pub mod schema;
pub mod strace;
pub mod structs;
pub mod table;

pub use errno::Errno;
pub use schema::{Arg, EnumSet, Family, FlagSet, Ret, StructKind, SyscallInfo};
pub use table::{lookup, SYSCALLS};
