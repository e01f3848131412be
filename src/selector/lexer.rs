//! Turns selector text into tokens, each with its 0-based character offset.
//!
//! Offsets are counted in characters, not bytes, because that is what a user counts when
//! an error message points into the selector they wrote.

use super::SelectorError;

/// The reserved words. They are case-insensitive and never identifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Keyword {
    Null,
    True,
    False,
    Not,
    And,
    Or,
    Between,
    Like,
    In,
    Is,
    Escape,
}

impl Keyword {
    fn from_word(word: &str) -> Option<Keyword> {
        const WORDS: [(&str, Keyword); 11] = [
            ("NULL", Keyword::Null),
            ("TRUE", Keyword::True),
            ("FALSE", Keyword::False),
            ("NOT", Keyword::Not),
            ("AND", Keyword::And),
            ("OR", Keyword::Or),
            ("BETWEEN", Keyword::Between),
            ("LIKE", Keyword::Like),
            ("IN", Keyword::In),
            ("IS", Keyword::Is),
            ("ESCAPE", Keyword::Escape),
        ];
        WORDS
            .iter()
            .find(|(w, _)| w.eq_ignore_ascii_case(word))
            .map(|&(_, k)| k)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum TokenKind {
    Ident(String),
    Keyword(Keyword),
    Str(String),
    /// An exact numeric literal without its sign. Kept unsigned so that the parser can
    /// fold `-9223372036854775808` (whose digits alone do not fit an i64).
    Integer(u64),
    Float(f64),
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Plus,
    Minus,
    Star,
    Slash,
    LParen,
    RParen,
    Comma,
    Eof,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub kind: TokenKind,
    /// 0-based character offset of the token's first character.
    pub pos: usize,
    /// The token as written, for error messages.
    pub text: String,
}

impl Token {
    /// How an error message names this token.
    pub fn describe(&self) -> String {
        match self.kind {
            TokenKind::Eof => "end of input".to_string(),
            _ => format!("'{}'", self.text),
        }
    }
}

/// Java's identifier rules, approximated with Unicode's letter/digit classes: a letter,
/// `_` or `$` first, then letters, digits, `_` or `$`.
fn is_ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_' || c == '$'
}

fn is_ident_part(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '$'
}

pub(crate) fn tokenize(text: &str) -> Result<Vec<Token>, SelectorError> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        let kind = if is_ident_start(c) {
            while i < chars.len() && is_ident_part(chars[i]) {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            match Keyword::from_word(&word) {
                Some(k) => TokenKind::Keyword(k),
                None => TokenKind::Ident(word),
            }
        } else if c.is_ascii_digit()
            || (c == '.' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit()))
        {
            let (kind, end) = number(&chars, start)?;
            i = end;
            kind
        } else if c == '\'' {
            let (value, end) = string(&chars, start)?;
            i = end;
            TokenKind::Str(value)
        } else {
            let next = chars.get(i + 1).copied();
            let (kind, len) = match (c, next) {
                ('<', Some('>')) => (TokenKind::Ne, 2),
                ('<', Some('=')) => (TokenKind::Le, 2),
                ('>', Some('=')) => (TokenKind::Ge, 2),
                ('=', _) => (TokenKind::Eq, 1),
                ('<', _) => (TokenKind::Lt, 1),
                ('>', _) => (TokenKind::Gt, 1),
                ('+', _) => (TokenKind::Plus, 1),
                ('-', _) => (TokenKind::Minus, 1),
                ('*', _) => (TokenKind::Star, 1),
                ('/', _) => (TokenKind::Slash, 1),
                ('(', _) => (TokenKind::LParen, 1),
                (')', _) => (TokenKind::RParen, 1),
                (',', _) => (TokenKind::Comma, 1),
                _ => {
                    return Err(SelectorError::new(
                        start,
                        format!("unexpected character '{}'", c.escape_debug()),
                    ))
                }
            };
            i += len;
            kind
        };
        tokens.push(Token {
            kind,
            pos: start,
            text: chars[start..i].iter().collect(),
        });
    }
    tokens.push(Token {
        kind: TokenKind::Eof,
        pos: chars.len(),
        text: String::new(),
    });
    Ok(tokens)
}

/// A string literal: `'...'` with `''` standing for one quote. Returns the value and the
/// offset just past the closing quote.
fn string(chars: &[char], start: usize) -> Result<(String, usize), SelectorError> {
    let mut value = String::new();
    let mut i = start + 1;
    loop {
        match chars.get(i) {
            None => {
                return Err(SelectorError::new(
                    start,
                    "unterminated string literal".to_string(),
                ))
            }
            Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                value.push('\'');
                i += 2;
            }
            Some('\'') => return Ok((value, i + 1)),
            Some(&c) => {
                value.push(c);
                i += 1;
            }
        }
    }
}

/// A numeric literal, as ActiveMQ and Artemis accept them: decimal, `0x` hex and
/// leading-zero octal integers with an optional `L`, and decimal floats (`7.`, `.5`, `7E3`)
/// with an optional `F`/`D`. Accepting hex and octal keeps selectors written for ActiveMQ
/// meaning the same thing here.
fn number(chars: &[char], start: usize) -> Result<(TokenKind, usize), SelectorError> {
    let mut i = start;
    let digits = |mut i: usize, pred: fn(&char) -> bool| {
        while chars.get(i).is_some_and(pred) {
            i += 1;
        }
        i
    };
    let text_of = |a: usize, b: usize| chars[a..b].iter().collect::<String>();

    // Hexadecimal.
    if chars[i] == '0' && matches!(chars.get(i + 1), Some('x' | 'X')) {
        let end = digits(i + 2, char::is_ascii_hexdigit);
        if end == i + 2 {
            return Err(SelectorError::new(
                start,
                format!("invalid hexadecimal literal '{}'", text_of(start, end)),
            ));
        }
        let value = u64::from_str_radix(&text_of(i + 2, end), 16).map_err(|_| {
            SelectorError::new(
                start,
                format!("integer literal '{}' is out of range", text_of(start, end)),
            )
        })?;
        let end = skip_long_suffix(chars, end);
        return integer_end(chars, start, end, value);
    }

    i = digits(i, char::is_ascii_digit);
    let int_end = i;
    let mut is_float = false;
    if chars.get(i) == Some(&'.') {
        is_float = true;
        i = digits(i + 1, char::is_ascii_digit);
    }
    if matches!(chars.get(i), Some('e' | 'E')) {
        let mut j = i + 1;
        if matches!(chars.get(j), Some('+' | '-')) {
            j += 1;
        }
        let exp_end = digits(j, char::is_ascii_digit);
        if exp_end > j {
            is_float = true;
            i = exp_end;
        }
    }
    if is_float {
        let literal = text_of(start, i);
        let value: f64 = literal.parse().map_err(|_| {
            SelectorError::new(start, format!("invalid numeric literal '{literal}'"))
        })?;
        if !value.is_finite() {
            return Err(SelectorError::new(
                start,
                format!("numeric literal '{literal}' is out of range"),
            ));
        }
        if matches!(chars.get(i), Some('f' | 'F' | 'd' | 'D')) {
            i += 1;
        }
        return float_end(chars, start, i, value);
    }
    if matches!(chars.get(i), Some('f' | 'F' | 'd' | 'D')) {
        // `5F` / `5D`: an integer spelled as a float, as in Java.
        let literal = text_of(start, int_end);
        let value: f64 = literal.parse().map_err(|_| {
            SelectorError::new(start, format!("invalid numeric literal '{literal}'"))
        })?;
        return float_end(chars, start, i + 1, value);
    }
    let literal = text_of(start, int_end);
    let (radix, body) = if literal.len() > 1 && literal.starts_with('0') {
        (8, &literal[1..])
    } else {
        (10, literal.as_str())
    };
    let value = u64::from_str_radix(body, radix).map_err(|_| {
        let what = if radix == 8 && body.chars().any(|c| c == '8' || c == '9') {
            format!("invalid octal literal '{literal}'")
        } else {
            format!("integer literal '{literal}' is out of range")
        };
        SelectorError::new(start, what)
    })?;
    let end = skip_long_suffix(chars, int_end);
    integer_end(chars, start, end, value)
}

fn skip_long_suffix(chars: &[char], i: usize) -> usize {
    if matches!(chars.get(i), Some('l' | 'L')) {
        i + 1
    } else {
        i
    }
}

/// A number glued to a following letter (`12abc`) is one bad token, not two.
fn check_number_end(chars: &[char], start: usize, end: usize) -> Result<(), SelectorError> {
    if chars
        .get(end)
        .is_some_and(|&c| is_ident_part(c) || c == '.')
    {
        let mut j = end;
        while chars.get(j).is_some_and(|&c| is_ident_part(c) || c == '.') {
            j += 1;
        }
        let text: String = chars[start..j].iter().collect();
        return Err(SelectorError::new(
            start,
            format!("invalid numeric literal '{text}'"),
        ));
    }
    Ok(())
}

fn integer_end(
    chars: &[char],
    start: usize,
    end: usize,
    value: u64,
) -> Result<(TokenKind, usize), SelectorError> {
    check_number_end(chars, start, end)?;
    Ok((TokenKind::Integer(value), end))
}

fn float_end(
    chars: &[char],
    start: usize,
    end: usize,
    value: f64,
) -> Result<(TokenKind, usize), SelectorError> {
    check_number_end(chars, start, end)?;
    Ok((TokenKind::Float(value), end))
}
