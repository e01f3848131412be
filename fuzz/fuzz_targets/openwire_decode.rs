//! The OpenWire decoder on arbitrary bytes: it must never panic, and whatever it decodes
//! must re-encode to bytes that decode to the same encoding again.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use mqbridge::openwire::codec::{
    encode_frame, Command, Limits, OpenWireCodec, WireFormatInfo, WireSettings,
};
use tokio_util::codec::Decoder;

fn check(command: &Command, settings: WireSettings) {
    if let Command::Message(m) = command {
        let _ = m.body_with_limit(1 << 20);
        let _ = m.properties();
    }
    let mut once = BytesMut::new();
    if encode_frame(command, settings, Limits::default(), &mut once).is_err() {
        return;
    }
    let mut codec = OpenWireCodec::negotiated(settings, Limits::default());
    let again = codec
        .decode(&mut once.clone())
        .expect("re-encoded frame decodes")
        .expect("re-encoded frame is whole");
    let mut twice = BytesMut::new();
    encode_frame(&again, settings, Limits::default(), &mut twice).expect("encodes again");
    assert_eq!(once, twice, "encoding is not stable");
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, data)) = data.split_first() else {
        return;
    };
    let settings = WireSettings {
        version: 10 + i32::from(mode % 3),
        stack_trace_enabled: mode & 4 != 0,
    };
    let limits = Limits {
        max_frame_bytes: 1 << 20,
    };
    let mut codec = if mode & 8 != 0 {
        OpenWireCodec::new(WireFormatInfo::server(30_000, 1 << 20, "fuzz"), limits)
    } else {
        OpenWireCodec::negotiated(settings, limits)
    };
    let mut buf = BytesMut::from(data);
    while let Ok(Some(command)) = codec.decode(&mut buf) {
        check(&command, codec.settings());
    }
});
