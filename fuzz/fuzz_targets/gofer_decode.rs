//! Feeds arbitrary bytes to the Gofer's message decoder: it must never panic, and whatever
//! decodes must survive an encode -> decode round trip unchanged.

#![no_main]

use gofer::proto;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(frame) = proto::decode(data) else {
        return;
    };
    let mut out = Vec::new();
    proto::encode(&frame, &mut out).expect("a decoded message encodes");
    // Byte equality is too strict (struct stat padding is not carried), message equality is not.
    assert_eq!(proto::decode(&out).as_ref(), Ok(&frame));
    assert!(out.len() <= data.len());
});
