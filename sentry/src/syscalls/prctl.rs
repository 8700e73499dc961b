//! prctl: the process's name, parent-death signal, child-subreaper role, no_new_privs, and
//! the read-only answers a sandboxed process gets about dumpability, capabilities and seccomp.
//! Options not listed fail with EINVAL, as Linux answers unknown ones, and are audited.

use syscalls::{nr, Errno};

use super::{Registration, SysResult, Support};
use crate::kernel::Task;

pub const HANDLERS: &[Registration] = &[Registration {
    nr: nr::PRCTL,
    handler: sys_prctl,
    support: Support::Partial,
    note: "PR_SET/GET_NAME, PDEATHSIG, CHILD_SUBREAPER, NO_NEW_PRIVS, DUMPABLE; PR_CAPBSET_READ, PR_GET_SECCOMP; others EINVAL",
}];

const PR_SET_PDEATHSIG: u64 = 1;
const PR_GET_PDEATHSIG: u64 = 2;
const PR_GET_DUMPABLE: u64 = 3;
const PR_SET_DUMPABLE: u64 = 4;
const PR_SET_NAME: u64 = 15;
const PR_GET_NAME: u64 = 16;
const PR_GET_SECCOMP: u64 = 21;
const PR_CAPBSET_READ: u64 = 23;
const PR_SET_CHILD_SUBREAPER: u64 = 36;
const PR_GET_CHILD_SUBREAPER: u64 = 37;
const PR_SET_NO_NEW_PRIVS: u64 = 38;
const PR_GET_NO_NEW_PRIVS: u64 = 39;

/// The highest capability number this kernel knows (CAP_CHECKPOINT_RESTORE).
const CAP_LAST_CAP: u64 = 40;

fn sys_prctl(t: &mut Task, a: [u64; 6]) -> SysResult {
    let [option, arg2, arg3, arg4, arg5, _] = a;
    let zero_rest = |from: &[u64]| from.iter().all(|&x| x == 0);
    match option {
        PR_SET_NAME => {
            let mut name = [0u8; 16];
            t.mm.copy_in(arg2, &mut name[..1])?;
            // Up to 16 bytes, stopping at the first NUL or unreadable byte.
            let mut len = 0;
            while len < 15 && name[len] != 0 {
                len += 1;
                if t.mm.copy_in(arg2 + len as u64, &mut name[len..len + 1]).is_err() {
                    break;
                }
            }
            if let Some(p) = t.kernel.processes.lock().unwrap_or_else(|e| e.into_inner()).get(&t.tgid) {
                *p.comm.lock().unwrap_or_else(|e| e.into_inner()) = name[..len].to_vec();
            }
            Ok(0)
        }
        PR_GET_NAME => {
            let mut out = [0u8; 16];
            if let Some(p) = t.kernel.processes.lock().unwrap_or_else(|e| e.into_inner()).get(&t.tgid) {
                let c = p.comm.lock().unwrap_or_else(|e| e.into_inner());
                out[..c.len()].copy_from_slice(&c);
            }
            t.mm.copy_out(arg2, &out).map(|()| 0)
        }
        PR_SET_PDEATHSIG => {
            if arg2 > 64 {
                return Err(Errno::EINVAL);
            }
            t.kernel.procs.configure(t.tgid, Some(arg2 as i32), None);
            Ok(0)
        }
        PR_GET_PDEATHSIG => {
            let (sig, _) = t.kernel.procs.configuration(t.tgid);
            t.mm.copy_out(arg2, &sig.to_le_bytes()).map(|()| 0)
        }
        PR_SET_CHILD_SUBREAPER => {
            t.kernel.procs.configure(t.tgid, None, Some(arg2 != 0));
            Ok(0)
        }
        PR_GET_CHILD_SUBREAPER => {
            let (_, subreaper) = t.kernel.procs.configuration(t.tgid);
            t.mm.copy_out(arg2, &i32::from(subreaper).to_le_bytes()).map(|()| 0)
        }
        PR_SET_NO_NEW_PRIVS => {
            if arg2 != 1 || !zero_rest(&[arg3, arg4, arg5]) {
                return Err(Errno::EINVAL);
            }
            t.no_new_privs = true;
            Ok(0)
        }
        PR_GET_NO_NEW_PRIVS => {
            if !zero_rest(&[arg2, arg3, arg4, arg5]) {
                return Err(Errno::EINVAL);
            }
            Ok(u64::from(t.no_new_privs))
        }
        PR_GET_DUMPABLE => Ok(u64::from(t.dumpable)),
        // Recorded; it matters to core dumps and ptrace, neither of which a guest gets.
        PR_SET_DUMPABLE if arg2 <= 1 => {
            t.dumpable = arg2 == 1;
            Ok(0)
        }
        // The guest's own seccomp filters are not supported: it has none installed.
        PR_GET_SECCOMP => Ok(0),
        PR_CAPBSET_READ if arg2 <= CAP_LAST_CAP => Ok(1),
        _ => {
            t.kernel.audit.unsupported_command("prctl", option);
            Err(Errno::EINVAL)
        }
    }
}
