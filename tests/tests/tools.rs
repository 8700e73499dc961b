//! Everyday host tools run sandboxed, compared with native runs: python3 (subprocess, sqlite3,
//! signal.alarm with a handler, mmap of a file), perl, the sqlite3 shell, gcc compiling and
//! running a program, make, and git init/add/commit/log. A tool missing on the host is reported
//! and skipped.

use std::path::Path;
use std::process::Command;

use sandbox_tests::{on_path, run, sandbox_run, TempDir};

/// Runs `sh -c script` natively and sandboxed (in `dir`, mounted read-write at the same path)
/// and asserts the same stdout and status. The script runs twice in the same directory, so it
/// starts by removing what it makes.
fn same_script(dir: &Path, script: &str) {
    let d = dir.to_str().unwrap();
    let native = run(Command::new("/bin/sh").arg("-c").arg(script).current_dir(dir));
    let mount = format!("{d}:{d}:rw");
    let sandboxed = run(&mut sandbox_run(&["--mount", &mount, "--cwd", d], Path::new("/bin/sh"), &["-c", script]));
    assert_eq!(native.status(), sandboxed.status(), "{script}\n--- native\n{}\n--- sandboxed\n{}", native.describe(), sandboxed.describe());
    assert!(native.stdout_str() == sandboxed.stdout_str(), "{script}: stdout differs\n--- native\n{}\n--- sandboxed\n{}", native.describe(), sandboxed.describe());
}

fn have(tool: &str) -> bool {
    let ok = on_path(tool);
    if !ok {
        eprintln!("{tool} is not installed: skipped (scripts/test.sh installs it)");
    }
    ok
}

#[test]
fn python3_subprocess_sqlite_and_alarm() {
    if !have("python3") {
        return;
    }
    let dir = TempDir::new("python");
    same_script(dir.path(), r#"rm -f db.sqlite; python3 -c '
import signal, sqlite3, subprocess, time
print(subprocess.run(["echo", "from a child"], capture_output=True, text=True).stdout.strip())
c = sqlite3.connect("db.sqlite")
c.execute("create table t(x)")
c.executemany("insert into t values (?)", [(i,) for i in range(1000)])
c.commit()
print("sum", c.execute("select sum(x) from t").fetchone()[0])
hits = []
signal.signal(signal.SIGALRM, lambda s, f: hits.append(s))
signal.alarm(1)
time.sleep(3)
print("alarm handled", hits)
'"#);
}

#[test]
fn python3_mmap_of_a_file() {
    if !have("python3") {
        return;
    }
    let dir = TempDir::new("python-mmap");
    // The file is under /tmp (the sandbox's own memory there), not in the mounted directory.
    same_script(dir.path(), r#"python3 -c '
import mmap, os, tempfile
with tempfile.TemporaryDirectory() as d:
    p = os.path.join(d, "f")
    with open(p, "wb") as f:
        f.write(b"hello mmap world")
    with open(p, "r+b") as f:
        m = mmap.mmap(f.fileno(), 0)
        m[0:5] = b"HELLO"
        m.flush()
        print(f.read())
        f.seek(6)
        f.write(b"MMAP")
        f.flush()
        print(m[:])
        m.resize(8192)
        m[8000:8004] = b"tail"
        f.seek(8000)
        print(f.read(4), os.path.getsize(p))
        m.close()
'"#);
}

#[test]
fn perl_and_sqlite3_shell() {
    if !have("perl") || !have("sqlite3") {
        return;
    }
    let dir = TempDir::new("perl");
    same_script(dir.path(), r#"perl -e 'my %h = map { $_ => $_ * $_ } 1..10; print join(",", map { $h{$_} } sort { $a <=> $b } keys %h), "\n"'"#);
    same_script(dir.path(), "rm -f t.db; sqlite3 t.db 'create table t(a); insert into t values (1),(2),(3); select count(*), sum(a) from t;'");
}

#[test]
fn gcc_and_make_build_and_run() {
    if !have("gcc") || !have("make") {
        return;
    }
    let dir = TempDir::new("gcc");
    std::fs::write(dir.join("hello.c"), "#include <stdio.h>\nint main(void) { puts(\"hello from gcc\"); return 3; }\n").unwrap();
    std::fs::write(dir.join("Makefile"), "all: hello\n\t./hello || echo status $$?\nhello: hello.c\n\tgcc -O1 -o $@ $<\n").unwrap();
    same_script(dir.path(), "gcc hello.c -o a.out && ./a.out; echo status $?");
    same_script(dir.path(), "rm -f hello; make -s");
}

#[test]
fn git_init_add_commit_log() {
    if !have("git") {
        return;
    }
    let dir = TempDir::new("git");
    same_script(
        dir.path(),
        "rm -rf repo && git init -q repo && cd repo && echo one > f && git add f && \
         git -c user.name=t -c user.email=t@e commit -qm first && echo two >> f && \
         git -c user.name=t -c user.email=t@e commit -qam second && git log --format=%s && git show HEAD:f",
    );
}
