//! Syscall policy and audit: the report model a run produces (`--audit FILE`) and its
//! renderings for people. Policies (TOML rules, host seccomp filters) build on this model.

pub mod audit;
