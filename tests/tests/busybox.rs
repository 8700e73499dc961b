//! Real programs over the host's files: static busybox commands run natively and under
//! `sandbox run` (the root is the host's / through the Gofer, under an in-memory overlay), with
//! outputs compared; writes that must stay in the sandbox and writes that must reach the host;
//! and escapes from a `--rootfs` that must fail.

use std::path::{Path, PathBuf};
use std::process::Command;

use sandbox_tests::{run, sandbox_run, Output, TempDir};

const BUSYBOX: &str = "/bin/busybox";

fn busybox() -> Option<PathBuf> {
    let p = PathBuf::from(BUSYBOX);
    if p.exists() {
        Some(p)
    } else {
        eprintln!("{BUSYBOX} is missing (the test command installs busybox-static): skipping");
        None
    }
}

fn native(args: &[&str]) -> Output {
    run(Command::new(BUSYBOX).args(args))
}

fn sandboxed(options: &[&str], args: &[&str]) -> Output {
    run(&mut sandbox_run(options, Path::new(BUSYBOX), args))
}

/// Runs a busybox applet both ways and asserts the same stdout and status.
fn same(args: &[&str]) {
    let n = native(args);
    let s = sandboxed(&[], args);
    assert_eq!(n.status(), s.status(), "busybox {args:?}\n--- native\n{}\n--- sandboxed\n{}", n.describe(), s.describe());
    assert!(n.stdout_str() == s.stdout_str(), "busybox {args:?}: stdout differs\n--- native\n{}\n--- sandboxed\n{}", n.describe(), s.describe());
}

#[test]
fn listing_reading_and_searching_host_files_match_native() {
    if busybox().is_none() {
        return;
    }
    same(&["ls", "-la", "/usr/bin"]);
    same(&["cat", "/etc/os-release"]);
    same(&["find", "/usr/share/doc", "-maxdepth", "2", "-name", "copyright"]);
    same(&["du", "-s", "/usr/share/doc"]);
    same(&["grep", "-r", "-l", "GNU General Public License", "/usr/share/doc"]);
    same(&["stat", "/etc/os-release"]);
    same(&["readlink", "/proc/self/root"]);
    same(&["ls", "-laR", "/etc/ssl"]);
}

#[test]
fn checksums_and_sorting_of_large_files_match_native() {
    if busybox().is_none() {
        return;
    }
    let dir = TempDir::new("busybox-data");
    let big = dir.join("big");
    let mut data = Vec::with_capacity(32 << 20);
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    while data.len() < 32 << 20 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        data.extend_from_slice(&x.to_le_bytes());
    }
    std::fs::write(&big, &data).unwrap();
    same(&["sha256sum", big.to_str().unwrap()]);
    let nums = dir.join("nums");
    let text: String = (0..20_000u64).map(|i| format!("{}\n", (i * 7919) % 20_011)).collect();
    std::fs::write(&nums, text).unwrap();
    same(&["sort", "-n", nums.to_str().unwrap()]);
}

#[test]
fn writes_under_the_default_root_stay_in_the_sandbox() {
    if busybox().is_none() {
        return;
    }
    let dir = TempDir::new("busybox-overlay");
    let host_tmp = dir.join("y");
    let etc = format!("/etc/sandbox-test-{}", std::process::id());
    for target in [etc.as_str(), host_tmp.to_str().unwrap()] {
        let s = sandboxed(&[], &["touch", target]);
        assert_eq!(s.status(), 0, "{}", s.describe());
        assert!(!Path::new(target).exists(), "{target} reached the host");
    }
    // Inside one sandbox the write is visible: a file written then read back.
    let s = sandboxed(&[], &["sh", "-c", &format!("echo hi > {etc} && cat {etc}")]);
    if s.status() == 0 {
        assert_eq!(s.stdout_str(), "hi\n");
    }
    assert!(!Path::new(&etc).exists());
}

#[test]
fn a_read_write_mount_reaches_the_host_and_a_read_only_one_does_not() {
    if busybox().is_none() {
        return;
    }
    let dir = TempDir::new("busybox-mount");
    let spec = format!("{}:/data:rw", dir.path().display());
    let s = sandboxed(&["--mount", &spec], &["mkdir", "/data/made-inside"]);
    assert_eq!(s.status(), 0, "{}", s.describe());
    assert!(dir.join("made-inside").is_dir());
    let s = sandboxed(&["--mount", &spec], &["ln", "-s", "target-name", "/data/link"]);
    assert_eq!(s.status(), 0, "{}", s.describe());
    assert_eq!(std::fs::read_link(dir.join("link")).unwrap(), PathBuf::from("target-name"));
    let s = sandboxed(&["--mount", &spec], &["readlink", "/data/link"]);
    assert_eq!(s.stdout_str(), "target-name\n", "{}", s.describe());
    let ro = format!("{}:/data:ro", dir.path().display());
    let s = sandboxed(&["--mount", &ro], &["mkdir", "/data/not-on-host"]);
    assert_eq!(s.status(), 0, "{}", s.describe());
    assert!(!dir.join("not-on-host").exists());
}

#[test]
fn escapes_from_a_rootfs_fail() {
    if busybox().is_none() {
        return;
    }
    let root = TempDir::new("busybox-rootfs");
    std::os::unix::fs::symlink("/etc/shadow", root.join("shadow-link")).unwrap();
    std::os::unix::fs::symlink("loop-b", root.join("loop-a")).unwrap();
    std::os::unix::fs::symlink("loop-a", root.join("loop-b")).unwrap();
    std::os::unix::fs::symlink("/abs-b", root.join("abs-a")).unwrap();
    std::os::unix::fs::symlink("/abs-a", root.join("abs-b")).unwrap();
    std::os::unix::fs::symlink("../../../../etc/shadow", root.join("up-link")).unwrap();
    std::fs::write(root.join("inside"), "inside\n").unwrap();
    let opt = ["--rootfs", root.path().to_str().unwrap()];
    for (args, why) in [
        (&["cat", "/shadow-link"][..], "an absolute symlink resolves inside the rootfs"),
        (&["cat", "/up-link"], "a relative symlink cannot climb above the root"),
        (&["cat", "/../../../etc/shadow"], ".. stops at the root"),
        (&["cat", "/proc/self/root/etc/shadow"], "/proc/self/root is the sandbox's root"),
        (&["cat", "/proc/self/fd/9"], "an fd the guest never opened"),
        (&["cat", "/loop-a"], "a relative symlink loop is ELOOP"),
        (&["cat", "/abs-a"], "an absolute symlink loop is ELOOP"),
        (&["ln", "/etc/shadow", "/stolen"], "no hard link to a file outside"),
    ] {
        let s = sandboxed(&opt, args);
        assert_ne!(s.status(), 0, "{why}: {args:?} succeeded\n{}", s.describe());
        assert!(!s.stdout_str().contains("root:"), "{why}: host data leaked\n{}", s.describe());
    }
    let s = sandboxed(&opt, &["cat", "/inside"]);
    assert_eq!(s.stdout_str(), "inside\n", "{}", s.describe());
    let s = sandboxed(&opt, &["cat", "/loop-a"]);
    assert!(s.stderr_str().contains("ymbolic links"), "ELOOP expected\n{}", s.describe());
}

/// `diff -r` of two host trees: empty when they are the same.
fn diff_trees(a: &Path, b: &Path) -> String {
    let out = run(Command::new("diff").arg("-r").arg(a).arg(b));
    out.stdout_str() + &out.stderr_str()
}

#[test]
fn tar_and_cp_round_trips_through_a_read_write_mount() {
    if busybox().is_none() {
        return;
    }
    let dir = TempDir::new("busybox-tar");
    let spec = format!("{}:/data:rw", dir.path().display());
    let src = "/usr/share/doc/bash";
    // tar c inside one sandbox, tar x inside another, compared on the host.
    let s = sandboxed(&["--mount", &spec], &["tar", "-c", "-f", "/data/doc.tar", "-C", "/usr/share/doc", "bash"]);
    assert_eq!(s.status(), 0, "{}", s.describe());
    let listed = sandboxed(&["--mount", &spec], &["tar", "-t", "-f", "/data/doc.tar"]);
    let listed_native = native(&["tar", "-t", "-f", dir.join("doc.tar").to_str().unwrap()]);
    assert_eq!(listed.stdout_str(), listed_native.stdout_str());
    let s = sandboxed(&["--mount", &spec], &["mkdir", "/data/out"]);
    assert_eq!(s.status(), 0, "{}", s.describe());
    let s = sandboxed(&["--mount", &spec], &["tar", "-x", "-f", "/data/doc.tar", "-C", "/data/out"]);
    assert_eq!(s.status(), 0, "{}", s.describe());
    assert_eq!(diff_trees(Path::new(src), &dir.join("out/bash")), "", "tar round trip differs");
    // cp -a keeps contents, modes and links.
    let s = sandboxed(&["--mount", &spec], &["cp", "-a", src, "/data/copy"]);
    assert_eq!(s.status(), 0, "{}", s.describe());
    assert_eq!(diff_trees(Path::new(src), &dir.join("copy")), "", "cp -a differs");
    let mode = |p: &Path| std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(p).unwrap().permissions());
    assert_eq!(mode(Path::new(src)), mode(&dir.join("copy")));
}

/// A busybox shell script, natively and sandboxed: same stdout and status. The script works
/// in a fresh directory under /tmp (the host's natively, the sandbox's in-memory one inside).
fn same_script(script: &str) {
    let dir = format!("/tmp/sandbox-sh-{}-{}", std::process::id(), script.len());
    let full = format!("mkdir -p {dir} && cd {dir} && {script}; s=$?; cd / && rm -rf {dir}; exit $s");
    same(&["sh", "-c", &full]);
}

#[test]
fn shell_pipelines_subshells_and_round_trips_under_tmp_match_native() {
    if busybox().is_none() {
        return;
    }
    same_script("ls -la /usr/bin | wc -l");
    same_script("find /usr/share/doc -maxdepth 2 -name copyright | wc -l");
    same_script("echo $(echo nested $(echo deeper)); (exit 3); echo sub=$?; false || echo or-ran");
    same_script("for i in $(seq 30); do echo $i; done | sort -n | tail -3");
    same_script("tar c -f a.tar -C /usr/share/doc bash && mkdir out && tar x -f a.tar -C out && for f in out/bash/*; do cmp $f /usr/share/doc/bash/${f##*/} || exit 9; done && echo tar-round-trip-ok");
    same_script("cp -a /usr/share/doc/bash copy && ls -la copy | wc -l && cmp copy/copyright /usr/share/doc/bash/copyright && echo cp-ok");
    same_script("ln -s /etc/hostname lnk && readlink lnk && stat -c %s lnk");
    same_script("grep -r -l 'GNU General Public License' /usr/share/doc | wc -l");
    same_script("grep -r -c GPL /usr/share/doc/*/copyright | sort | tail -5");
    same_script("set -e; echo before; false; echo never");
    same_script("sh -c 'exit 7'; echo inner=$?");
}
