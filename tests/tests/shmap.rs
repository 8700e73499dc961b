//! MAP_SHARED file mappings and POSIX shared memory: the shmap guest run natively and
//! sandboxed with the outputs compared (its files live in a fresh directory under /tmp and a
//! uniquely named /dev/shm object, all removed again), and a writable shared mapping of a host
//! file, which the sandbox copies up into memory, leaving the host's file alone.

use sandbox_tests::{assert_same, guest, run, sandbox_run, TempDir};

#[test]
fn shared_file_mappings_match_native() {
    assert_same(&guest("shmap"), &[], &[]);
}

#[test]
fn writable_shared_mapping_of_a_host_file_maps_its_copy() {
    let dir = TempDir::new("shmap");
    let file = dir.join("host.txt");
    std::fs::write(&file, "host data").unwrap();
    let out = run(&mut sandbox_run(&[], &guest("shmap"), &["copyup", file.to_str().unwrap()]));
    assert_eq!(out.status(), 0, "{}", out.describe());
    assert_eq!(
        out.stdout_str(),
        "shared writable mapping of the copied-up file = ok\n\
         mapping shows 'host data'\n\
         msync = 0\n\
         read() of the copy: pread 9 'SANDBOXED'\n\
         a new descriptor: pread 9 'SANDBOXED'\n",
        "{}",
        out.describe()
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "host data", "the host's file is untouched");
}
