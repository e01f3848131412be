//! The AMQP 0-9-1 frame decoder on arbitrary bytes: it must never panic, whatever the
//! negotiated frame_max, and a method it decodes must re-encode and decode to the same.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use mqbridge::amqp::codec::{encode_method, Frame, FrameDecoder};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, data)) = data.split_first() else {
        return;
    };
    let frame_max = match mode % 3 {
        0 => 0,
        1 => 4096,
        _ => 131_072,
    };
    let decoder = FrameDecoder::new(frame_max);
    let mut buf = BytesMut::from(data);
    while let Ok(Some(frame)) = decoder.decode(&mut buf) {
        let Frame::Method(channel, method) = frame else {
            continue;
        };
        let mut once = Vec::new();
        if encode_method(&mut once, channel, (*method).clone()).is_err() {
            continue;
        }
        let mut again = BytesMut::from(&once[..]);
        match FrameDecoder::new(0).decode(&mut again) {
            Ok(Some(Frame::Method(c, m))) => {
                assert_eq!(c, channel);
                assert_eq!(format!("{m:?}"), format!("{method:?}"), "round trip");
            }
            other => panic!("re-encoded method does not decode: {other:?}"),
        }
    }
});
