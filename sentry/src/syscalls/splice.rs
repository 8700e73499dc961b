//! Copies between descriptors inside the Sentry: sendfile, copy_file_range, splice, tee.

use std::any::Any;
use std::sync::Arc;

use syscalls::{nr, Errno};

use super::{Registration, SysResult, Support};
use crate::fs::pipe::PipeEnd;
use crate::kernel::Task;
use crate::vfs::FileDescription;

pub const HANDLERS: &[Registration] = &[
    Registration { nr: nr::SENDFILE, handler: sys_sendfile, support: Support::Full, note: "" },
    Registration { nr: nr::COPY_FILE_RANGE, handler: sys_copy_file_range, support: Support::Full, note: "" },
    Registration { nr: nr::SPLICE, handler: sys_splice, support: Support::Partial, note: "copies (no page moves); SPLICE_F_NONBLOCK applies to the pipe side's O_NONBLOCK only" },
    Registration { nr: nr::TEE, handler: sys_tee, support: Support::Full, note: "" },
];

fn pipe_end(f: &FileDescription) -> Option<&PipeEnd> {
    let ops: &dyn Any = &*f.ops;
    ops.downcast_ref::<PipeEnd>()
}

fn sys_splice(t: &mut Task, a: [u64; 6]) -> SysResult {
    const KNOWN: u64 = 1 | 2 | 4 | 8;
    if a[5] & !KNOWN != 0 {
        return Err(Errno::EINVAL);
    }
    let inp = t.fds.get(a[0] as i32)?;
    let out = t.fds.get(a[2] as i32)?;
    if !inp.readable() || !out.writable() {
        return Err(Errno::EBADF);
    }
    let (in_pipe, out_pipe) = (pipe_end(&inp).is_some(), pipe_end(&out).is_some());
    if !in_pipe && !out_pipe {
        return Err(Errno::EINVAL);
    }
    if (in_pipe && a[1] != 0) || (out_pipe && a[3] != 0) {
        return Err(Errno::ESPIPE);
    }
    if out.flags() & libc::O_APPEND as u32 != 0 && !out_pipe {
        return Err(Errno::EINVAL);
    }
    let fpos = read_off(t, a[1])?.map_or(Pos::Own, Pos::At);
    let tpos = read_off(t, a[3])?.map_or(Pos::Own, Pos::At);
    let (n, fpos, tpos) = copy(&inp, fpos, &out, tpos, a[4])?;
    if let Pos::At(p) = fpos {
        t.mm.copy_out(a[1], &p.to_le_bytes())?;
    }
    if let Pos::At(p) = tpos {
        t.mm.copy_out(a[3], &p.to_le_bytes())?;
    }
    Ok(n)
}

fn sys_tee(t: &mut Task, a: [u64; 6]) -> SysResult {
    const SPLICE_F_NONBLOCK: u64 = 2;
    let inp = t.fds.get(a[0] as i32)?;
    let out = t.fds.get(a[1] as i32)?;
    let (Some(src), Some(_)) = (pipe_end(&inp), pipe_end(&out)) else { return Err(Errno::EINVAL) };
    if a[0] as i32 == a[1] as i32 || !inp.readable() || !out.writable() {
        return Err(Errno::EINVAL);
    }
    let data = src.peek((a[2].min(MAX_RW_COUNT)) as usize, a[3] & SPLICE_F_NONBLOCK != 0)?;
    if data.is_empty() {
        return Ok(0);
    }
    let mut data = data;
    let iov = [libc::iovec { iov_base: data.as_mut_ptr().cast(), iov_len: data.len() }];
    out.ops.write(&iov, 0).map(|n| n as u64)
}

const CHUNK: usize = 1 << 16;
const MAX_RW_COUNT: u64 = 0x7fff_f000;

/// Where a side of the copy reads or writes: the description's offset or an explicit one.
enum Pos {
    Own,
    At(u64),
}

/// Copies up to `count` bytes; returns (bytes, final explicit positions).
fn copy(from: &Arc<FileDescription>, mut fpos: Pos, to: &Arc<FileDescription>, mut tpos: Pos, count: u64) -> Result<(u64, Pos, Pos), Errno> {
    let mut buf = vec![0u8; CHUNK];
    let mut done = 0u64;
    let count = count.min(MAX_RW_COUNT);
    while done < count {
        let want = ((count - done) as usize).min(CHUNK);
        let iov = [libc::iovec { iov_base: buf.as_mut_ptr().cast(), iov_len: want }];
        let n = match &mut fpos {
            Pos::At(p) => from.ops.read(&iov, *p)?,
            Pos::Own => {
                let mut off = from.offset.lock().unwrap_or_else(|e| e.into_inner());
                let n = from.ops.read(&iov, *off)?;
                *off += n as u64;
                n
            }
        };
        if n == 0 {
            break;
        }
        let iov = [libc::iovec { iov_base: buf.as_mut_ptr().cast(), iov_len: n }];
        let w = match &mut tpos {
            Pos::At(p) => to.ops.write(&iov, *p)?,
            Pos::Own => {
                let mut off = to.offset.lock().unwrap_or_else(|e| e.into_inner());
                if to.flags() & libc::O_APPEND as u32 != 0 && to.ops.seekable() {
                    *off = to.ops.stat()?.st_size as u64;
                }
                let w = to.ops.write(&iov, *off)?;
                *off += w as u64;
                w
            }
        };
        if let Pos::At(p) = &mut fpos {
            *p += n as u64;
        }
        if let Pos::At(p) = &mut tpos {
            *p += w as u64;
        }
        done += w as u64;
        if w < n || n < want {
            break;
        }
    }
    Ok((done, fpos, tpos))
}

fn read_off(t: &Task, addr: u64) -> Result<Option<u64>, Errno> {
    if addr == 0 {
        return Ok(None);
    }
    let mut b = [0u8; 8];
    t.mm.copy_in(addr, &mut b)?;
    let v = i64::from_le_bytes(b);
    if v < 0 {
        return Err(Errno::EINVAL);
    }
    Ok(Some(v as u64))
}

fn sys_sendfile(t: &mut Task, a: [u64; 6]) -> SysResult {
    let out = t.fds.get(a[0] as i32)?;
    let inp = t.fds.get(a[1] as i32)?;
    if !inp.readable() || !out.writable() {
        return Err(Errno::EBADF);
    }
    if !inp.ops.seekable() {
        return Err(Errno::EINVAL);
    }
    let fpos = read_off(t, a[2])?.map_or(Pos::Own, Pos::At);
    let (n, fpos, _) = copy(&inp, fpos, &out, Pos::Own, a[3])?;
    if let Pos::At(p) = fpos {
        t.mm.copy_out(a[2], &p.to_le_bytes())?;
    }
    Ok(n)
}

fn sys_copy_file_range(t: &mut Task, a: [u64; 6]) -> SysResult {
    if a[5] != 0 {
        return Err(Errno::EINVAL);
    }
    let inp = t.fds.get(a[0] as i32)?;
    let out = t.fds.get(a[2] as i32)?;
    if !inp.readable() || !out.writable() || out.flags() & libc::O_APPEND as u32 != 0 {
        return Err(Errno::EBADF);
    }
    for f in [&inp, &out] {
        let st = f.ops.stat()?;
        match st.st_mode & libc::S_IFMT {
            libc::S_IFREG => {}
            libc::S_IFDIR => return Err(Errno::EISDIR),
            _ => return Err(Errno::EINVAL),
        }
    }
    let fpos = read_off(t, a[1])?.map_or(Pos::Own, Pos::At);
    let tpos = read_off(t, a[3])?.map_or(Pos::Own, Pos::At);
    let (n, fpos, tpos) = copy(&inp, fpos, &out, tpos, a[4])?;
    if let Pos::At(p) = fpos {
        t.mm.copy_out(a[1], &p.to_le_bytes())?;
    }
    if let Pos::At(p) = tpos {
        t.mm.copy_out(a[3], &p.to_le_bytes())?;
    }
    Ok(n)
}
