//! Reading frames off a socket: a read buffer plus the [`FrameDecoder`].
//!
//! The handshake and the connection loop both read through a [`FrameReader`]; only the
//! connection loop writes through the writer task (`writer.rs`), the handshake writes
//! directly because nothing else can write yet.

use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::Instant;

use super::codec::{encode_method, Frame, FrameDecoder, FrameError};
use crate::error::Error;
use amq_protocol::protocol::AMQPClass;

/// Why reading a frame stopped.
#[derive(Debug)]
pub enum ReadError {
    /// The socket failed or the peer closed it.
    Io(std::io::Error),
    /// The peer closed the socket cleanly (EOF between frames or inside one).
    Eof,
    /// The bytes are not a valid frame: answer with `connection.close` and drop.
    Frame(FrameError),
}

/// Frames from a byte stream.
#[derive(Debug)]
pub struct FrameReader<R> {
    read: R,
    buf: BytesMut,
    pub decoder: FrameDecoder,
    /// When bytes last arrived: the heartbeat monitor counts any traffic, including the
    /// first parts of a large frame.
    last_read: Instant,
}

impl<R: AsyncRead + Unpin> FrameReader<R> {
    pub fn new(read: R, frame_max: u32) -> Self {
        FrameReader {
            read,
            buf: BytesMut::with_capacity(16 * 1024),
            decoder: FrameDecoder::new(frame_max),
            last_read: Instant::now(),
        }
    }

    /// The next whole frame. Cancel-safe: bytes already read stay in the buffer.
    pub async fn next_frame(&mut self) -> Result<Frame, ReadError> {
        loop {
            if let Some(frame) = self
                .decoder
                .decode(&mut self.buf)
                .map_err(ReadError::Frame)?
            {
                return Ok(frame);
            }
            self.fill().await?;
        }
    }

    /// Read more bytes into the buffer (at least one). Cancel-safe.
    pub async fn fill(&mut self) -> Result<(), ReadError> {
        if self.buf.capacity() - self.buf.len() < 4096 {
            self.buf.reserve(16 * 1024);
        }
        match self.read.read_buf(&mut self.buf).await {
            Ok(0) => Err(ReadError::Eof),
            Ok(_) => {
                self.last_read = Instant::now();
                Ok(())
            }
            Err(e) => Err(ReadError::Io(e)),
        }
    }

    /// When bytes last arrived from the peer.
    pub fn last_read(&self) -> Instant {
        self.last_read
    }

    /// The bytes read but not yet decoded.
    pub fn buffered(&self) -> &[u8] {
        &self.buf
    }

    /// Drop `n` buffered bytes (used for the protocol header, which is not a frame).
    pub fn consume(&mut self, n: usize) {
        let n = n.min(self.buf.len());
        let _ = self.buf.split_to(n);
    }
}

/// Write one method frame and flush (handshake and final close only).
pub async fn write_method<W: AsyncWrite + Unpin>(
    write: &mut W,
    channel: u16,
    method: AMQPClass,
) -> Result<(), Error> {
    let mut out = Vec::with_capacity(256);
    encode_method(&mut out, channel, method)?;
    write
        .write_all(&out)
        .await
        .map_err(|e| Error::internal(format!("write: {e}")))?;
    write
        .flush()
        .await
        .map_err(|e| Error::internal(format!("flush: {e}")))
}
