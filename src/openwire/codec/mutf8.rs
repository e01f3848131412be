//! Java *modified UTF-8* (`DataOutput.writeUTF`), the text encoding of every OpenWire string.
//!
//! It differs from UTF-8 in two ways: NUL is written `C0 80`, and a supplementary character
//! (above U+FFFF) is written as its UTF-16 surrogate pair, each surrogate as a 3-byte
//! sequence (`ED A0..AF xx`, `ED B0..BF xx`), i.e. CESU-8. The encoder always writes that
//! form (a Java `getText()` throws `UTFDataFormatException` on 4-byte sequences, openwire.md
//! pitfall 8); the decoder accepts both forms (plain NUL and 4-byte sequences too). A lone
//! surrogate, which a Java string may hold but a Rust string may not, decodes to U+FFFD.

/// Why bytes are not modified UTF-8.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed modified UTF-8 at byte {offset}")]
pub struct Mutf8Error {
    pub offset: usize,
}

/// Decodes modified UTF-8 (or plain UTF-8) into a `String`.
pub fn decode(bytes: &[u8]) -> Result<String, Mutf8Error> {
    // Fast path: valid UTF-8 means the same text in both encodings.
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok(text.to_owned());
    }
    let mut out = String::with_capacity(bytes.len());
    let mut i = 0;
    let err = |offset| Mutf8Error { offset };
    let cont = |i: usize| -> Result<u32, Mutf8Error> {
        match bytes.get(i) {
            Some(&b) if b & 0xC0 == 0x80 => Ok(u32::from(b & 0x3F)),
            _ => Err(Mutf8Error { offset: i }),
        }
    };
    while i < bytes.len() {
        let b = bytes[i];
        if b < 0x80 {
            out.push(char::from(b));
            i += 1;
        } else if b & 0xE0 == 0xC0 {
            // Java accepts the overlong C0 80 for NUL; other overlong forms are malformed.
            let c = (u32::from(b & 0x1F) << 6) | cont(i + 1)?;
            if c < 0x80 && c != 0 {
                return Err(err(i));
            }
            out.push(char::from_u32(c).ok_or(err(i))?);
            i += 2;
        } else if b & 0xF0 == 0xE0 {
            let c = (u32::from(b & 0x0F) << 12) | (cont(i + 1)? << 6) | cont(i + 2)?;
            if c < 0x800 {
                return Err(err(i));
            }
            if (0xD800..0xDC00).contains(&c) {
                // A high surrogate: pair it with a following low surrogate if there is one.
                let low = if bytes.get(i + 3) == Some(&0xED) {
                    let l = (0x0D << 12) | (cont(i + 4)? << 6) | cont(i + 5)?;
                    (0xDC00..0xE000).contains(&l).then_some(l)
                } else {
                    None
                };
                match low {
                    Some(l) => {
                        let cp = 0x10000 + ((c - 0xD800) << 10) + (l - 0xDC00);
                        out.push(char::from_u32(cp).ok_or(err(i))?);
                        i += 6;
                    }
                    None => {
                        out.push(char::REPLACEMENT_CHARACTER);
                        i += 3;
                    }
                }
            } else {
                out.push(char::from_u32(c).unwrap_or(char::REPLACEMENT_CHARACTER));
                i += 3;
            }
        } else if b & 0xF8 == 0xF0 {
            let c = (u32::from(b & 0x07) << 18)
                | (cont(i + 1)? << 12)
                | (cont(i + 2)? << 6)
                | cont(i + 3)?;
            if c < 0x10000 {
                return Err(err(i));
            }
            out.push(char::from_u32(c).ok_or(err(i))?);
            i += 4;
        } else {
            return Err(err(i));
        }
    }
    Ok(out)
}

/// The length of `text` in modified UTF-8, in bytes.
pub fn encoded_len(text: &str) -> usize {
    text.chars()
        .map(|c| match c as u32 {
            0 => 2,
            1..=0x7F => 1,
            0x80..=0x7FF => 2,
            0x800..=0xFFFF => 3,
            _ => 6,
        })
        .sum()
}

/// Appends `text` in modified UTF-8 to `out`.
pub fn encode_into(text: &str, out: &mut Vec<u8>) {
    // Fast path: no NUL and no supplementary character means UTF-8 is already right.
    if !text.bytes().any(|b| b == 0 || b >= 0xF0) {
        out.extend_from_slice(text.as_bytes());
        return;
    }
    let mut units = [0u16; 2];
    for c in text.chars() {
        if c == '\0' {
            out.extend_from_slice(&[0xC0, 0x80]);
        } else if (c as u32) < 0x10000 {
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        } else {
            for unit in c.encode_utf16(&mut units).iter() {
                let u = *unit;
                out.push(0xE0 | (u >> 12) as u8);
                out.push(0x80 | ((u >> 6) & 0x3F) as u8);
                out.push(0x80 | (u & 0x3F) as u8);
            }
        }
    }
}

/// `text` in modified UTF-8.
pub fn encode(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    encode_into(text, &mut out);
    out
}

/// The number of UTF-16 code units of `text` (Java's `String.length()`).
pub fn utf16_len(text: &str) -> usize {
    text.chars().map(char::len_utf16).sum()
}
