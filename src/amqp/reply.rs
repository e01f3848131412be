//! Building the methods that report errors: `connection.close` and `channel.close`.
//!
//! A core [`Error`] carries its reply code and scope; this is where it becomes a frame.
//! Reply texts are short strings, so they are cut (on a char boundary) to 255 bytes.

use amq_protocol::protocol::{channel, connection, AMQPClass};
use amq_protocol::types::ShortString;

use crate::error::{Error, ReplyCode};
use crate::message::short_string;

/// A short string from any text, cut to 255 bytes on a char boundary (never panics).
pub fn short_lossy(text: &str) -> ShortString {
    let mut end = text.len().min(255);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    short_string(&text[..end]).unwrap_or_default()
}

/// `connection.close` for an error, naming the method that failed (0, 0 if none).
pub fn connection_close(code: ReplyCode, text: &str, class_id: u16, method_id: u16) -> AMQPClass {
    AMQPClass::Connection(connection::AMQPMethod::Close(connection::Close {
        reply_code: code.code(),
        reply_text: short_lossy(text),
        class_id,
        method_id,
    }))
}

/// `channel.close` for an error, naming the method that failed.
pub fn channel_close(err: &Error, class_id: u16, method_id: u16) -> AMQPClass {
    AMQPClass::Channel(channel::AMQPMethod::Close(channel::Close {
        reply_code: err.code.code(),
        reply_text: short_lossy(&err.reply_text()),
        class_id,
        method_id,
    }))
}

/// `connection.close` for a core error.
pub fn connection_close_for(err: &Error, class_id: u16, method_id: u16) -> AMQPClass {
    connection_close(err.code, &err.reply_text(), class_id, method_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_texts_are_cut_on_a_char_boundary() {
        let text = "é".repeat(200); // 400 bytes
        let s = short_lossy(&text);
        assert!(s.as_str().len() <= 255);
        assert!(s.as_str().chars().all(|c| c == 'é'));
    }
}
