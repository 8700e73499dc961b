//! Memory-management calls beyond mmap: mremap, madvise, msync, mincore, the mlock family and
//! membarrier, run natively and sandboxed with the outputs compared.

#[test]
fn memory_calls_match_native() {
    sandbox_tests::assert_same(&sandbox_tests::guest("mm2"), &[], &[]);
}

#[test]
fn smaps_and_status_match_native() {
    sandbox_tests::assert_same(&sandbox_tests::guest("smaps"), &[], &[]);
}

#[test]
fn rlimit_stack_sizes_the_stack_as_native() {
    sandbox_tests::assert_same(&sandbox_tests::guest("stack"), &[], &[]);
}
