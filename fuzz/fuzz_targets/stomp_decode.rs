//! The STOMP decoder on arbitrary bytes, in each protocol version: it must never panic,
//! and a frame it decodes must re-encode to bytes that decode to the same frame (plus the
//! `content-length` header the encoder adds to a body that had none).
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use mqbridge::stomp::codec::{encode_frame, Item, Limits, StompCodec, Version};
use tokio_util::codec::Decoder;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, data)) = data.split_first() else {
        return;
    };
    let version = match mode % 3 {
        0 => Version::V1_0,
        1 => Version::V1_1,
        _ => Version::V1_2,
    };
    let limits = Limits {
        max_frame_bytes: 1 << 20,
        max_headers: 64,
        max_header_bytes: 4096,
    };
    let mut codec = StompCodec::new(version, limits);
    let mut buf = BytesMut::from(data);
    while let Ok(Some(item)) = codec.decode(&mut buf) {
        let Item::Frame(frame) = item else { continue };
        let mut once = BytesMut::new();
        encode_frame(&frame, version, &mut once);
        let mut again = StompCodec::new(version, Limits::default());
        match again.decode(&mut once) {
            Ok(Some(Item::Frame(mut decoded))) => {
                if !frame.has("content-length") && !frame.body.is_empty() {
                    let added = decoded.headers.pop();
                    let length = frame.body.len().to_string();
                    assert_eq!(added, Some(("content-length".to_string(), length)));
                }
                assert_eq!(decoded, frame, "round trip");
            }
            other => panic!("re-encoded frame does not decode: {other:?}"),
        }
    }
});
