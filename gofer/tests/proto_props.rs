//! Properties of the wire format: the decoder never panics, and encode -> decode is the
//! identity for every message the encoder accepts.

use gofer::proto::{
    self, Dirent, FileId, Frame, Kind, Message, Node, Reply, Request, SetStat, StatFs, WalkStatus,
    Xattr, HEADER_LEN, MAGIC_VERSION, MAX_MESSAGE,
};
use proptest::collection::vec;
use proptest::prelude::*;
use syscalls::structs::{Stat, Timespec};
use syscalls::Errno;

fn name() -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 0..=proto::MAX_NAME)
}

fn short_name() -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 0..24)
}

fn id() -> impl Strategy<Value = FileId> {
    any::<u64>().prop_map(FileId)
}

fn errno() -> impl Strategy<Value = Errno> {
    proptest::sample::select(Errno::ALL)
}

fn stat() -> impl Strategy<Value = Stat> {
    (any::<[u64; 8]>(), any::<[u32; 3]>(), any::<[i64; 5]>()).prop_map(|(u, w, i)| Stat {
        st_dev: u[0],
        st_ino: u[1],
        st_nlink: u[2],
        st_mode: w[0],
        st_uid: w[1],
        st_gid: w[2],
        st_rdev: u[3],
        st_size: i[0],
        st_blksize: i[1],
        st_blocks: i[2],
        st_atime: i[3],
        st_atime_nsec: u[4] as i64,
        st_mtime: i[4],
        st_mtime_nsec: u[5] as i64,
        st_ctime: u[6] as i64,
        st_ctime_nsec: u[7] as i64,
    })
}

fn node() -> impl Strategy<Value = Node> {
    (id(), stat()).prop_map(|(id, stat)| Node { id, stat })
}

fn walk_status() -> impl Strategy<Value = WalkStatus> {
    prop_oneof![
        Just(WalkStatus::Complete),
        Just(WalkStatus::Symlink),
        errno().prop_map(WalkStatus::Failed),
    ]
}

fn timespec() -> impl Strategy<Value = Timespec> {
    (any::<i64>(), any::<i64>()).prop_map(|(tv_sec, tv_nsec)| Timespec { tv_sec, tv_nsec })
}

fn request() -> impl Strategy<Value = Request> {
    let names = || vec(short_name(), 0..40);
    let u = any::<u32>;
    prop_oneof![
        u().prop_map(|root| Request::Attach { root }),
        (id(), names()).prop_map(|(dir, names)| Request::Walk { dir, names }),
        (id(), names()).prop_map(|(dir, names)| Request::WalkStat { dir, names }),
        (id(), u()).prop_map(|(id, flags)| Request::Open { id, flags }),
        (id(), name(), u(), u(), u(), u()).prop_map(|(dir, name, flags, mode, uid, gid)| {
            Request::OpenCreate {
                dir,
                name,
                flags,
                mode,
                uid,
                gid,
            }
        }),
        (id(), name(), u(), u(), u()).prop_map(|(dir, name, mode, uid, gid)| Request::Mkdir {
            dir,
            name,
            mode,
            uid,
            gid
        }),
        (id(), name(), u(), u(), u()).prop_map(|(dir, name, mode, uid, gid)| Request::Mknod {
            dir,
            name,
            mode,
            uid,
            gid
        }),
        (
            id(),
            name(),
            vec(any::<u8>(), 0..=proto::MAX_TARGET),
            u(),
            u()
        )
            .prop_map(|(dir, name, target, uid, gid)| {
                Request::Symlink {
                    dir,
                    name,
                    target,
                    uid,
                    gid,
                }
            }),
        (id(), name(), id()).prop_map(|(dir, name, target)| Request::Link { dir, name, target }),
        (id(), name(), u()).prop_map(|(dir, name, flags)| Request::Unlink { dir, name, flags }),
        (id(), name(), id(), name(), u()).prop_map(
            |(old_dir, old_name, new_dir, new_name, flags)| Request::Rename {
                old_dir,
                old_name,
                new_dir,
                new_name,
                flags
            }
        ),
        id().prop_map(|id| Request::Readlink { id }),
        id().prop_map(|id| Request::Stat { id }),
        (
            id(),
            u(),
            u(),
            u(),
            u(),
            any::<u64>(),
            timespec(),
            timespec()
        )
            .prop_map(
                |(id, mask, mode, uid, gid, size, atime, mtime)| Request::SetStat {
                    id,
                    attr: SetStat {
                        mask,
                        mode,
                        uid,
                        gid,
                        size,
                        atime,
                        mtime
                    },
                }
            ),
        id().prop_map(|id| Request::StatFs { id }),
        (id(), any::<u64>()).prop_map(|(dir, cookie)| Request::Getdents { dir, cookie }),
        id().prop_map(|id| Request::Fsync { id }),
        (id(), name(), u()).prop_map(|(id, name, size)| Request::GetXattr { id, name, size }),
        (id(), u()).prop_map(|(id, size)| Request::ListXattr { id, size }),
        vec(id(), 0..200).prop_map(|ids| Request::Close { ids }),
    ]
}

fn reply() -> impl Strategy<Value = Reply> {
    let xattr =
        || (any::<u32>(), vec(any::<u8>(), 0..2000)).prop_map(|(len, data)| Xattr { len, data });
    let dirent = (any::<u64>(), any::<u64>(), any::<u8>(), short_name()).prop_map(
        |(ino, next, d_type, name)| Dirent {
            ino,
            next,
            d_type,
            name,
        },
    );
    prop_oneof![
        errno().prop_map(Reply::Error),
        node().prop_map(Reply::Attach),
        (walk_status(), vec(node(), 0..20))
            .prop_map(|(status, nodes)| Reply::Walk { status, nodes }),
        (walk_status(), vec(stat(), 0..20))
            .prop_map(|(status, stats)| Reply::WalkStat { status, stats }),
        Just(Reply::Open),
        node().prop_map(Reply::OpenCreate),
        node().prop_map(Reply::Mkdir),
        node().prop_map(Reply::Mknod),
        node().prop_map(Reply::Symlink),
        node().prop_map(Reply::Link),
        Just(Reply::Unlink),
        Just(Reply::Rename),
        vec(any::<u8>(), 0..300).prop_map(Reply::Readlink),
        stat().prop_map(Reply::Stat),
        Just(Reply::SetStat),
        any::<[u64; 11]>().prop_map(|v| Reply::StatFs(StatFs {
            f_type: v[0],
            f_bsize: v[1],
            f_blocks: v[2],
            f_bfree: v[3],
            f_bavail: v[4],
            f_files: v[5],
            f_ffree: v[6],
            f_fsid: v[7],
            f_namelen: v[8],
            f_frsize: v[9],
            f_flags: v[10],
        })),
        vec(dirent, 0..300).prop_map(Reply::Getdents),
        Just(Reply::Fsync),
        xattr().prop_map(Reply::GetXattr),
        xattr().prop_map(Reply::ListXattr),
        Just(Reply::Close),
    ]
}

fn frame() -> impl Strategy<Value = Frame> {
    (
        any::<u32>(),
        prop_oneof![
            request().prop_map(Message::Request),
            reply().prop_map(Message::Reply)
        ],
    )
        .prop_map(|(tag, msg)| Frame { tag, msg })
}

/// A header that passes the magic, version and length checks, for a body of `len` bytes.
fn header(kind: u16, len: usize) -> Vec<u8> {
    let mut h = Vec::with_capacity(HEADER_LEN);
    h.extend_from_slice(&MAGIC_VERSION.to_le_bytes());
    h.extend_from_slice(&kind.to_le_bytes());
    h.extend_from_slice(&7u32.to_le_bytes());
    h.extend_from_slice(&(len as u32).to_le_bytes());
    h
}

fn any_kind() -> impl Strategy<Value = u16> {
    prop_oneof![
        proptest::sample::select(Kind::ALL.to_vec()).prop_map(|k| k as u16),
        proptest::sample::select(Kind::ALL.to_vec()).prop_map(|k| k as u16 | proto::REPLY_BIT),
        Just(proto::ERROR_KIND),
        any::<u16>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn decoder_never_panics_on_arbitrary_bytes(bytes in vec(any::<u8>(), 0..512)) {
        let _ = proto::decode(&bytes);
    }

    #[test]
    fn decoder_never_panics_past_a_valid_header(kind in any_kind(), body in vec(any::<u8>(), 0..2048)) {
        let mut b = header(kind, body.len());
        b.extend_from_slice(&body);
        let _ = proto::decode(&b);
    }

    #[test]
    fn encode_then_decode_is_identity(f in frame()) {
        let mut b = Vec::new();
        proto::encode(&f, &mut b).unwrap();
        prop_assert!(b.len() <= MAX_MESSAGE);
        prop_assert_eq!(proto::decode(&b).unwrap(), f);
    }

    #[test]
    fn every_truncation_of_a_valid_message_is_an_error(f in frame(), cut in any::<prop::sample::Index>()) {
        let mut b = Vec::new();
        proto::encode(&f, &mut b).unwrap();
        let n = cut.index(b.len());
        // Fix the header's length so the body check, not the length check, must catch it.
        if n >= HEADER_LEN {
            let body = (n - HEADER_LEN) as u32;
            b[8..12].copy_from_slice(&body.to_le_bytes());
        }
        let t = &b[..n];
        match proto::decode(t) {
            Err(_) => {}
            // A shorter message may only decode where the cut removed nothing real: never.
            Ok(g) => prop_assert!(false, "truncated to {} of {} bytes decoded as {:?}", n, b.len(), g),
        }
    }

    #[test]
    fn corrupting_one_byte_never_panics(f in frame(), at in any::<prop::sample::Index>(), v in any::<u8>()) {
        let mut b = Vec::new();
        proto::encode(&f, &mut b).unwrap();
        let i = at.index(b.len());
        b[i] = v;
        let _ = proto::decode(&b);
    }
}
