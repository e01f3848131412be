//! A STOMP frame: a command, ordered headers and a body.
//!
//! Headers keep their wire order and repeats; [`Frame::header`] returns the first
//! occurrence, which is the one that counts (STOMP 1.2 "Repeated Header Entries").

use bytes::Bytes;

/// One STOMP frame, as decoded (headers unescaped) or to be encoded.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Frame {
    pub command: String,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

impl Frame {
    /// A frame with no headers and an empty body.
    pub fn new(command: impl Into<String>) -> Frame {
        Frame {
            command: command.into(),
            headers: Vec::new(),
            body: Bytes::new(),
        }
    }

    /// Add a header (builder style).
    pub fn with(mut self, name: impl Into<String>, value: impl Into<String>) -> Frame {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Set the body (builder style).
    pub fn with_body(mut self, body: impl Into<Bytes>) -> Frame {
        self.body = body.into();
        self
    }

    /// The first value of header `name` (later repeats are ignored, per the spec).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether header `name` is present.
    pub fn has(&self, name: &str) -> bool {
        self.header(name).is_some()
    }

    /// An ERROR frame: `message` header (short) and a body with the details.
    pub fn error(message: &str, details: &str) -> Frame {
        Frame::new("ERROR")
            .with("message", one_line(message))
            .with("content-type", "text/plain")
            .with_body(Bytes::from(details.to_string()))
    }

    /// A RECEIPT frame for `receipt_id`.
    pub fn receipt(receipt_id: &str) -> Frame {
        Frame::new("RECEIPT").with("receipt-id", receipt_id)
    }
}

/// Header values we generate must stay on one line in STOMP 1.0 (no escaping there).
fn one_line(text: &str) -> String {
    text.replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_repeated_header_wins() {
        let f = Frame::new("SEND").with("a", "1").with("a", "2");
        assert_eq!(f.header("a"), Some("1"));
        assert_eq!(f.header("b"), None);
    }

    #[test]
    fn error_frames_have_a_one_line_message() {
        let f = Frame::error("bad\nthing", "details");
        assert_eq!(f.header("message"), Some("bad thing"));
        assert_eq!(&f.body[..], b"details");
    }
}
