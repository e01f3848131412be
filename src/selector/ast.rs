//! The compiled selector: the expression tree, identifiers resolved to what they read from a
//! [`Message`](crate::message::Message), and LIKE patterns compiled to a matcher.

/// A literal value in the selector text.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Literal {
    Bool(bool),
    Long(i64),
    Double(f64),
    Str(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    /// `<`, `<=`, `>`, `>=`: defined for numbers only.
    pub fn is_ordering(self) -> bool {
        !matches!(self, CmpOp::Eq | CmpOp::Ne)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
}

/// An identifier, resolved once at parse time to where its value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Ident {
    DeliveryMode,
    Priority,
    MessageId,
    Timestamp,
    CorrelationId,
    Type,
    Redelivered,
    DeliveryCount,
    Expiration,
    ReplyTo,
    Destination,
    /// Any other name: an entry of the headers table (a JMS user property).
    Header(String),
}

impl Ident {
    /// JMS header names are case-sensitive like every identifier: `jmspriority` is a
    /// user property, not `JMSPriority`.
    pub fn resolve(name: String) -> Ident {
        match name.as_str() {
            "JMSDeliveryMode" => Ident::DeliveryMode,
            "JMSPriority" => Ident::Priority,
            "JMSMessageID" => Ident::MessageId,
            "JMSTimestamp" => Ident::Timestamp,
            "JMSCorrelationID" => Ident::CorrelationId,
            "JMSType" => Ident::Type,
            "JMSRedelivered" => Ident::Redelivered,
            "JMSXDeliveryCount" => Ident::DeliveryCount,
            "JMSExpiration" => Ident::Expiration,
            "JMSReplyTo" => Ident::ReplyTo,
            "JMSDestination" => Ident::Destination,
            _ => Ident::Header(name),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    Literal(Literal),
    Ident(Ident),
    Not(Box<Node>),
    /// n-ary, so that a long chain stays one level deep.
    And(Vec<Node>),
    Or(Vec<Node>),
    Cmp(CmpOp, Box<Node>, Box<Node>),
    Arith(ArithOp, Box<Node>, Box<Node>),
    Neg(Box<Node>),
    /// Unary plus on a non-literal: the operand when it is a number, else NULL.
    Pos(Box<Node>),
    Between {
        negated: bool,
        value: Box<Node>,
        low: Box<Node>,
        high: Box<Node>,
    },
    In {
        negated: bool,
        ident: Ident,
        list: Vec<String>,
    },
    Like {
        negated: bool,
        ident: Ident,
        pattern: Pattern,
    },
    IsNull {
        negated: bool,
        value: Box<Node>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PatternElem {
    Char(char),
    /// `_`: exactly one character.
    One,
    /// `%`: any sequence, empty included.
    Any,
}

/// A compiled LIKE pattern.
///
/// Matched by hand rather than translated to a regex: no regex crate is needed, characters
/// that are special in regexes (`.`, `*`, `(`) need no quoting, and the greedy
/// backtracking matcher below is O(pattern × text) in the worst case, never exponential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pattern {
    elems: Vec<PatternElem>,
}

impl Pattern {
    /// With an escape character, it makes the character after it literal (usually `_`, `%`
    /// or itself; like ActiveMQ, any character is accepted). A trailing escape is an error.
    pub fn compile(text: &str, escape: Option<char>) -> Result<Pattern, String> {
        let mut elems = Vec::new();
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            let elem = if Some(c) == escape {
                match chars.next() {
                    Some(next) => PatternElem::Char(next),
                    None => {
                        return Err(format!(
                            "the escape character '{c}' ends the pattern with nothing to escape"
                        ))
                    }
                }
            } else if c == '_' {
                PatternElem::One
            } else if c == '%' {
                // `%%` means the same as `%`; one is enough for the matcher.
                if elems.last() == Some(&PatternElem::Any) {
                    continue;
                }
                PatternElem::Any
            } else {
                PatternElem::Char(c)
            };
            elems.push(elem);
        }
        Ok(Pattern { elems })
    }

    /// Walks the text by byte offsets (always on character boundaries), so a match
    /// allocates nothing.
    pub fn matches(&self, text: &str) -> bool {
        let pat = &self.elems;
        let (mut p, mut t) = (0, 0);
        // Where the last `%` was and the text offset it currently stands for.
        let mut backtrack: Option<(usize, usize)> = None;
        while let Some(c) = text[t..].chars().next() {
            match pat.get(p) {
                Some(PatternElem::Any) => {
                    backtrack = Some((p, t));
                    p += 1;
                    continue;
                }
                Some(PatternElem::One) => {
                    p += 1;
                    t += c.len_utf8();
                    continue;
                }
                Some(PatternElem::Char(expected)) if *expected == c => {
                    p += 1;
                    t += c.len_utf8();
                    continue;
                }
                _ => {}
            }
            // Mismatch: let the last `%` swallow one more character, or fail. Earlier `%`s
            // never need revisiting, which keeps this O(pattern × text).
            let Some((star, swallowed)) = backtrack else {
                return false;
            };
            let Some(next) = text[swallowed..].chars().next() else {
                return false;
            };
            let swallowed = swallowed + next.len_utf8();
            backtrack = Some((star, swallowed));
            p = star + 1;
            t = swallowed;
        }
        pat[p..].iter().all(|e| *e == PatternElem::Any)
    }
}
