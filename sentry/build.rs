//! Builds the guest vDSO (`vdso/vdso.c`, laid out by `vdso/vdso.lds`) into `$OUT_DIR/vdso.so`,
//! which `src/loader/vdso.rs` embeds. The compiler is `$VDSO_CC`, else `gcc`.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    let dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")).join("vdso.so");
    let src = dir.join("vdso/vdso.c");
    let lds = dir.join("vdso/vdso.lds");
    println!("cargo:rerun-if-changed={}", src.display());
    println!("cargo:rerun-if-changed={}", lds.display());
    println!("cargo:rerun-if-env-changed=VDSO_CC");
    let cc = std::env::var("VDSO_CC").unwrap_or_else(|_| "gcc".into());
    let flags = [
        // Position-independent, self-contained, no stack canary or CET notes (nothing in the
        // guest sets them up for a vDSO), general registers only (callers need not save
        // vector state around a clock read).
        "-O2",
        "-fPIC",
        "-ffreestanding",
        "-fno-builtin",
        "-fno-stack-protector",
        "-fno-stack-clash-protection",
        "-fcf-protection=none",
        "-mgeneral-regs-only",
        "-Wall",
        "-Wextra",
        "-Werror",
        "-shared",
        "-nostdlib",
        "-Wl,-soname=linux-vdso.so.1",
        // Both hash tables: glibc reads either, Go's runtime and older parsers only DT_HASH.
        "-Wl,--hash-style=both",
        "-Wl,--no-undefined",
        "-Wl,-Bsymbolic",
        "-Wl,--eh-frame-hdr",
        "-Wl,-z,max-page-size=4096",
        "-Wl,-z,noexecstack",
        "-Wl,--build-id=none",
        "-Wl,--strip-all",
    ];
    let status = Command::new(&cc)
        .args(flags)
        .arg(format!("-Wl,-T,{}", lds.display()))
        .arg("-o")
        .arg(&out)
        .arg(&src)
        .status()
        .unwrap_or_else(|e| panic!("cannot run {cc} to build the guest vDSO (install gcc, or set VDSO_CC): {e}"));
    assert!(status.success(), "{cc} failed to build the guest vDSO from {}", src.display());
}
