//! Thread and process identity and lifetime: exit (the thread), exit_group (the process), getpid, gettid, getppid,
//! set_tid_address, set_robust_list, arch_prctl, sched_yield.

use syscalls::{nr, Errno};

use super::{Registration, SysResult, Support};
use crate::kernel::{ExitStatus, Task};
use crate::mm::TASK_SIZE;

pub const HANDLERS: &[Registration] = &[
    Registration { nr: nr::EXIT, handler: sys_exit, support: Support::Full, note: "" },
    Registration { nr: nr::EXIT_GROUP, handler: sys_exit_group, support: Support::Full, note: "" },
    Registration { nr: nr::GETPID, handler: sys_getpid, support: Support::Full, note: "" },
    Registration { nr: nr::GETTID, handler: sys_gettid, support: Support::Full, note: "" },
    Registration { nr: nr::GETPPID, handler: sys_getppid, support: Support::Full, note: "" },
    Registration { nr: nr::SET_TID_ADDRESS, handler: sys_set_tid_address, support: Support::Full, note: "" },
    Registration { nr: nr::SET_ROBUST_LIST, handler: sys_set_robust_list, support: Support::Full, note: "" },
    Registration { nr: nr::ARCH_PRCTL, handler: sys_arch_prctl, support: Support::Partial, note: "ARCH_SET_FS/GET_FS/SET_GS/GET_GS" },
    Registration { nr: nr::SCHED_YIELD, handler: sys_sched_yield, support: Support::Full, note: "" },
];

/// Ends the calling thread; the last thread of a process ends the process with its status.
fn sys_exit(t: &mut Task, a: [u64; 6]) -> SysResult {
    t.exit = Some(ExitStatus::Exited(a[0] as u8));
    Ok(0)
}

fn sys_exit_group(t: &mut Task, a: [u64; 6]) -> SysResult {
    t.exit_group(ExitStatus::Exited(a[0] as u8));
    Ok(0)
}

fn sys_getpid(t: &mut Task, _: [u64; 6]) -> SysResult {
    Ok(t.tgid as u64)
}

fn sys_gettid(t: &mut Task, _: [u64; 6]) -> SysResult {
    Ok(t.tid as u64)
}

fn sys_getppid(t: &mut Task, _: [u64; 6]) -> SysResult {
    // The table knows about reparenting to init.
    Ok(t.kernel.procs.ppid(t.tgid) as u64)
}

fn sys_set_tid_address(t: &mut Task, a: [u64; 6]) -> SysResult {
    t.clear_child_tid = a[0];
    Ok(t.tid as u64)
}

fn sys_set_robust_list(t: &mut Task, a: [u64; 6]) -> SysResult {
    // sizeof(struct robust_list_head)
    if a[1] != 24 {
        return Err(Errno::EINVAL);
    }
    t.robust_list = (a[0], a[1]);
    Ok(0)
}

const ARCH_SET_GS: u64 = 0x1001;
const ARCH_SET_FS: u64 = 0x1002;
const ARCH_GET_FS: u64 = 0x1003;
const ARCH_GET_GS: u64 = 0x1004;

fn sys_arch_prctl(t: &mut Task, a: [u64; 6]) -> SysResult {
    if matches!(a[0], ARCH_SET_FS | ARCH_SET_GS) && a[1] < TASK_SIZE {
        // The base in the CPU may not be the last one set (`wrgsbase`): set it whatever.
        t.ctx.reload_bases();
    }
    let r = &mut t.regs.0;
    match a[0] {
        // As Linux: a base must be a user address.
        ARCH_SET_FS | ARCH_SET_GS if a[1] >= TASK_SIZE => Err(Errno::EPERM),
        ARCH_SET_FS => {
            r.fs_base = a[1];
            r.fs = 0;
            Ok(0)
        }
        ARCH_SET_GS => {
            r.gs_base = a[1];
            r.gs = 0;
            Ok(0)
        }
        ARCH_GET_FS => {
            let v = r.fs_base;
            t.mm.copy_out(a[1], &v.to_le_bytes()).map(|()| 0)
        }
        ARCH_GET_GS => {
            let v = r.gs_base;
            t.mm.copy_out(a[1], &v.to_le_bytes()).map(|()| 0)
        }
        // CET, CPUID faulting, AMX permissions: not offered, as on a kernel without them.
        _ => Err(Errno::EINVAL),
    }
}

fn sys_sched_yield(_: &mut Task, _: [u64; 6]) -> SysResult {
    std::thread::yield_now();
    Ok(0)
}
