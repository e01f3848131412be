//! JMS message selectors: parsing the JMS 1.1 §3.8.1 selector language (the same in JMS 2.0
//! and 3.1) and evaluating it against a core [`Message`].
//!
//! This module owns the selector language only: [`Selector::parse`] compiles the text once,
//! [`Selector::matches`] decides per message. Where selectors are attached (consumers,
//! routes) is up to the callers; a broker consumer filter is
//! `Arc::new(move |m| selector.matches(m))`.
//!
//! Hand-written (a recursive-descent parser, a tree-walking evaluator): no JMS selector
//! crate exists on crates.io, and the identifiers must resolve against this crate's AMQP
//! [`Message`] model (DESIGN.md §5) anyway. The code is pure: no I/O, no async, no panics on
//! any input.
//!
//! # Grammar
//!
//! Keywords are case-insensitive; identifiers are case-sensitive. Lowest precedence first:
//!
//! ```text
//! selector      := <empty> | or_expr                  (empty: every message matches)
//! or_expr       := and_expr { OR and_expr }
//! and_expr      := not_expr { AND not_expr }
//! not_expr      := NOT not_expr | predicate
//! predicate     := additive [ cmp_op additive
//!                           | [NOT] BETWEEN additive AND additive
//!                           | [NOT] IN '(' string { ',' string } ')'     (identifier on the left)
//!                           | [NOT] LIKE string [ESCAPE string]         (identifier on the left)
//!                           | IS [NOT] NULL ]
//! cmp_op        := '=' | '<>' | '<' | '<=' | '>' | '>='   (do not chain: `a = b = c` is an error)
//! additive      := multiplicative { ('+' | '-') multiplicative }
//! multiplicative:= unary { ('*' | '/') unary }
//! unary         := ('+' | '-') unary | primary
//! primary       := literal | identifier | '(' or_expr ')'
//! literal       := string | integer | float | TRUE | FALSE
//! string        := '\'' { char | '\'\'' } '\''                        ('' is one quote)
//! integer       := decimal | 0x hex | 0 octal, optional L suffix     (range of a Java long)
//! float         := 7.  .5  7.5  7E3  -57.9E2, optional F or D suffix
//! identifier    := Java identifier start { Java identifier part }, not a keyword
//! keyword       := NULL TRUE FALSE NOT AND OR BETWEEN LIKE IN IS ESCAPE
//! ```
//!
//! Hex and leading-zero octal integers are an extension that ActiveMQ and Artemis share
//! (`010` is 8 there, so here too). LIKE's `_` is one character, `%` any sequence; the
//! ESCAPE character makes the next one literal.
//!
//! Checks at parse time, as JMS providers do: the selector and the operands of
//! AND/OR/NOT must be able to be boolean; arithmetic and BETWEEN operands must be able to be
//! numbers; `<`, `<=`, `>`, `>=` refuse string and boolean literals or expressions; IN and
//! LIKE need an identifier on the left; IN lists hold string literals only; NOT stands
//! only where a condition does (`a = NOT b` is an error).
//!
//! Limits: at most [`MAX_LENGTH`] bytes and [`MAX_DEPTH`] levels of nesting (the parser and
//! the evaluator recurse, and a selector is untrusted input); beyond them `parse` returns
//! an error instead of overflowing the stack.
//!
//! # Semantics
//!
//! SQL's three-valued logic: a missing identifier is NULL, and a comparison or arithmetic
//! with NULL is UNKNOWN, as is comparing values of different types (a string with a number),
//! ordering strings or booleans, arithmetic on a non-number and division by zero. NOT,
//! AND and OR follow the JMS tables (FALSE AND UNKNOWN is FALSE, TRUE OR UNKNOWN is TRUE).
//! A message is selected only when the result is TRUE. Integers and floats compare by value
//! (a long against a double without rounding the long) and mixed arithmetic is done in f64;
//! integer arithmetic that would overflow is done in f64 too instead of wrapping, and
//! integer division truncates as in Java. NaN equals nothing and orders with nothing.
//!
//! # Identifiers
//!
//! | identifier | value |
//! |---|---|
//! | `JMSDeliveryMode` | `'PERSISTENT'` when delivery_mode is 2, else `'NON_PERSISTENT'` |
//! | `JMSPriority` | priority, 4 when absent |
//! | `JMSMessageID`, `JMSCorrelationID`, `JMSType`, `JMSReplyTo` | message_id, correlation_id, type, reply_to (NULL when absent) |
//! | `JMSTimestamp` | header `JMSTimestamp` (ms), else timestamp × 1000, else 0 |
//! | `JMSExpiration` | header `JMSExpiration`, else 0 |
//! | `JMSRedelivered` | header `x-delivery-count` ≥ 1 |
//! | `JMSXDeliveryCount` | header `x-delivery-count` + 1 (1 when absent) |
//! | `JMSDestination` | NULL |
//! | anything else | the headers-table entry: booleans, integers, floats, strings and timestamps (as a long); other types and non-UTF-8 strings are NULL |

mod ast;
mod eval;
mod lexer;
mod parser;

#[cfg(test)]
mod tests;

use std::fmt;

use crate::message::Message;

/// The longest selector accepted, in bytes.
pub const MAX_LENGTH: usize = 64 * 1024;
/// The deepest nesting accepted (parentheses, NOT, signs, and the height of the tree).
pub const MAX_DEPTH: usize = 256;

/// A compiled JMS message selector.
#[derive(Debug, Clone)]
pub struct Selector {
    text: String,
    /// `None` for an empty selector, which selects every message.
    root: Option<ast::Node>,
    /// Read numeric-looking strings as numbers when compared with numbers.
    numeric_strings: bool,
}

/// Why a selector was refused, with where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectorError {
    /// 0-based character (not byte) offset into the selector text.
    pub position: usize,
    pub message: String,
}

impl SelectorError {
    pub(crate) fn new(position: usize, message: String) -> SelectorError {
        SelectorError { position, message }
    }
}

impl fmt::Display for SelectorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "selector error at position {}: {}",
            self.position, self.message
        )
    }
}

impl std::error::Error for SelectorError {}

impl Selector {
    /// Compile a selector. An empty or all-whitespace text is valid and selects every
    /// message: JMS treats it as "no selector".
    pub fn parse(text: &str) -> Result<Selector, SelectorError> {
        if text.len() > MAX_LENGTH {
            let position = text
                .char_indices()
                .position(|(byte, _)| byte >= MAX_LENGTH)
                .unwrap_or(0);
            return Err(SelectorError::new(
                position,
                format!(
                    "the selector is {} bytes long, more than the limit of {MAX_LENGTH}",
                    text.len()
                ),
            ));
        }
        let tokens = lexer::tokenize(text)?;
        let root = match tokens.first().map(|t| &t.kind) {
            Some(lexer::TokenKind::Eof) | None => None,
            Some(_) => Some(parser::parse(tokens)?),
        };
        Ok(Selector {
            text: text.to_string(),
            root,
            numeric_strings: false,
        })
    }

    /// Compare a string with a number by reading the string as a number when it is one,
    /// as ActiveMQ does for STOMP subscribers (`convert_string_expressions`): STOMP header
    /// values are all strings, so `n > 2` should select a message sent with `n:3`.
    #[must_use]
    pub fn with_numeric_strings(mut self) -> Selector {
        self.numeric_strings = true;
        self
    }

    /// True only when the selector evaluates to TRUE for this message (not FALSE, not
    /// UNKNOWN).
    pub fn matches(&self, message: &Message) -> bool {
        self.evaluate(message) == Some(true)
    }

    /// The three-valued result: `None` is UNKNOWN.
    pub fn evaluate(&self, message: &Message) -> Option<bool> {
        match &self.root {
            None => Some(true),
            Some(root) => eval::truth(root, message, self.numeric_strings),
        }
    }

    /// The selector as it was given.
    pub fn text(&self) -> &str {
        &self.text
    }
}
