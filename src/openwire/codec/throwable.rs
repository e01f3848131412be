//! Throwables (openwire.md §4): bool present; string class; string message; only when
//! `StackTraceEnabled` was negotiated: `i16` frame count, frames (class, method, file,
//! line), then the cause in the same format.

use super::loose::{Reader, Writer};
use super::CodecError;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StackFrame {
    pub class: Option<String>,
    pub method: Option<String>,
    pub file: Option<String>,
    pub line: i32,
}

/// A Java throwable: a class name the client instantiates by reflection with a `String`
/// constructor (use `javax.jms.*` names, openwire.md pitfall 18) and its message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Throwable {
    pub class: Option<String>,
    pub message: Option<String>,
    /// Only on the wire when stack traces are enabled.
    pub stack_trace: Vec<StackFrame>,
    pub cause: Option<Box<Throwable>>,
}

impl Throwable {
    pub fn new(class: impl Into<String>, message: impl Into<String>) -> Self {
        Throwable {
            class: Some(class.into()),
            message: Some(message.into()),
            ..Throwable::default()
        }
    }

    pub fn decode(r: &mut Reader) -> Result<Option<Throwable>, CodecError> {
        if !r.bool()? {
            return Ok(None);
        }
        let class = r.string()?;
        let message = r.string()?;
        let mut t = Throwable {
            class,
            message,
            ..Throwable::default()
        };
        if r.settings().stack_trace_enabled {
            let n = r.i16()?;
            let n = usize::try_from(n)
                .map_err(|_| CodecError::malformed("throwable", format!("negative count {n}")))?;
            // Each frame takes at least 7 bytes.
            if r.remaining() < n.saturating_mul(7) {
                return Err(CodecError::malformed(
                    "throwable",
                    "stack trace beyond the frame",
                ));
            }
            t.stack_trace.reserve(n);
            for _ in 0..n {
                t.stack_trace.push(StackFrame {
                    class: r.string()?,
                    method: r.string()?,
                    file: r.string()?,
                    line: r.i32()?,
                });
            }
            t.cause = r.enter(Throwable::decode)?.map(Box::new);
        }
        Ok(Some(t))
    }

    pub fn encode(t: Option<&Throwable>, w: &mut Writer<'_>) -> Result<(), CodecError> {
        w.bool(t.is_some());
        let Some(t) = t else { return Ok(()) };
        w.string(t.class.as_deref())?;
        w.string(t.message.as_deref())?;
        if w.settings().stack_trace_enabled {
            let n = i16::try_from(t.stack_trace.len())
                .map_err(|_| CodecError::unencodable("throwable", "too many stack frames"))?;
            w.i16(n);
            for f in &t.stack_trace {
                w.string(f.class.as_deref())?;
                w.string(f.method.as_deref())?;
                w.string(f.file.as_deref())?;
                w.i32(f.line);
            }
            Throwable::encode(t.cause.as_deref(), w)?;
        }
        Ok(())
    }
}
