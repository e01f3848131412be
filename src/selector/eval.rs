//! Evaluates a compiled selector against a [`Message`], in SQL's three-valued logic.
//!
//! A boolean result is `Value::Bool`; UNKNOWN is `Value::Null`. Recursion here is bounded
//! by the parser's height limit on the tree.

use std::cmp::Ordering;

use super::ast::{ArithOp, CmpOp, Ident, Literal, Node};
use crate::message::{AMQPValue, Message};

/// A selector value. Strings borrow from the selector or the message: evaluation allocates
/// nothing but the character buffer a LIKE match needs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Value<'a> {
    Null,
    Bool(bool),
    Long(i64),
    Double(f64),
    Str(&'a str),
}

impl Value<'_> {
    fn truth(self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(b),
            // NULL, and a non-boolean property used as a condition: UNKNOWN.
            _ => None,
        }
    }
}

fn from_truth<'a>(truth: Option<bool>) -> Value<'a> {
    truth.map_or(Value::Null, Value::Bool)
}

/// `numeric_strings`: compare a string with a number by reading the string as a number
/// (ActiveMQ's `convert_string_expressions`, on for STOMP, whose headers are all strings).
pub(crate) fn truth(node: &Node, message: &Message, numeric_strings: bool) -> Option<bool> {
    eval(node, message, numeric_strings).truth()
}

fn eval<'a>(node: &'a Node, message: &'a Message, numeric_strings: bool) -> Value<'a> {
    let eval = |node: &'a Node, message: &'a Message| eval(node, message, numeric_strings);
    let compare = |op: CmpOp, left: Value<'a>, right: Value<'a>| {
        if numeric_strings {
            let (left, right) = numbers_from_strings(left, right);
            compare(op, left, right)
        } else {
            compare(op, left, right)
        }
    };
    match node {
        Node::Literal(literal) => match literal {
            Literal::Bool(b) => Value::Bool(*b),
            Literal::Long(v) => Value::Long(*v),
            Literal::Double(v) => Value::Double(*v),
            Literal::Str(s) => Value::Str(s),
        },
        Node::Ident(ident) => resolve(ident, message),
        Node::Not(operand) => from_truth(eval(operand, message).truth().map(|b| !b)),
        Node::And(operands) => {
            // FALSE wins over UNKNOWN, which wins over TRUE.
            let mut result = Some(true);
            for operand in operands {
                match eval(operand, message).truth() {
                    Some(false) => return Value::Bool(false),
                    None => result = None,
                    Some(true) => {}
                }
            }
            from_truth(result)
        }
        Node::Or(operands) => {
            // TRUE wins over UNKNOWN, which wins over FALSE.
            let mut result = Some(false);
            for operand in operands {
                match eval(operand, message).truth() {
                    Some(true) => return Value::Bool(true),
                    None => result = None,
                    Some(false) => {}
                }
            }
            from_truth(result)
        }
        Node::Cmp(op, left, right) => {
            from_truth(compare(*op, eval(left, message), eval(right, message)))
        }
        Node::Arith(op, left, right) => arith(*op, eval(left, message), eval(right, message)),
        Node::Neg(operand) => match eval(operand, message) {
            Value::Long(v) => v
                .checked_neg()
                .map_or(Value::Double(-(v as f64)), Value::Long),
            Value::Double(v) => Value::Double(-v),
            _ => Value::Null,
        },
        Node::Pos(operand) => match eval(operand, message) {
            v @ (Value::Long(_) | Value::Double(_)) => v,
            _ => Value::Null,
        },
        Node::Between {
            negated,
            value,
            low,
            high,
        } => {
            let value = eval(value, message);
            let above = compare(CmpOp::Ge, value, eval(low, message));
            let below = compare(CmpOp::Le, value, eval(high, message));
            let between = and(above, below);
            from_truth(if *negated {
                between.map(|b| !b)
            } else {
                between
            })
        }
        Node::In {
            negated,
            ident,
            list,
        } => match resolve(ident, message) {
            Value::Str(s) => Value::Bool(list.iter().any(|item| item == s) != *negated),
            // NULL (and, the type being wrong, any other value): UNKNOWN.
            _ => Value::Null,
        },
        Node::Like {
            negated,
            ident,
            pattern,
        } => match resolve(ident, message) {
            Value::Str(s) => Value::Bool(pattern.matches(s) != *negated),
            _ => Value::Null,
        },
        Node::IsNull { negated, value } => {
            Value::Bool((eval(value, message) == Value::Null) != *negated)
        }
    }
}

fn and(a: Option<bool>, b: Option<bool>) -> Option<bool> {
    match (a, b) {
        (Some(false), _) | (_, Some(false)) => Some(false),
        (Some(true), Some(true)) => Some(true),
        _ => None,
    }
}

/// A string compared with a number, read as a number when it is one (else left alone, so
/// the comparison stays UNKNOWN).
fn numbers_from_strings<'a>(left: Value<'a>, right: Value<'a>) -> (Value<'a>, Value<'a>) {
    fn number(v: Value<'_>) -> Option<Value<'static>> {
        let Value::Str(s) = v else { return None };
        s.parse::<i64>().map(Value::Long).ok().or_else(|| {
            s.parse::<f64>()
                .ok()
                .filter(|f| f.is_finite())
                .map(Value::Double)
        })
    }
    let is_number = |v: Value<'_>| matches!(v, Value::Long(_) | Value::Double(_));
    match (left, right) {
        (Value::Str(_), r) if is_number(r) => (number(left).unwrap_or(left), r),
        (l, Value::Str(_)) if is_number(l) => (l, number(right).unwrap_or(right)),
        _ => (left, right),
    }
}

/// A comparison: UNKNOWN with NULL or between different types (a string and a number);
/// numbers compare after promotion; strings and booleans only with `=` and `<>`.
fn compare(op: CmpOp, left: Value<'_>, right: Value<'_>) -> Option<bool> {
    let ordering = match (left, right) {
        (Value::Long(a), Value::Long(b)) => Some(a.cmp(&b)),
        (Value::Long(a), Value::Double(b)) => cmp_long_double(a, b),
        (Value::Double(a), Value::Long(b)) => cmp_long_double(b, a).map(Ordering::reverse),
        (Value::Double(a), Value::Double(b)) => a.partial_cmp(&b),
        (Value::Str(a), Value::Str(b)) if !op.is_ordering() => Some(a.cmp(b)),
        (Value::Bool(a), Value::Bool(b)) if !op.is_ordering() => Some(a.cmp(&b)),
        _ => return None,
    };
    // `None` here is a NaN: it equals nothing and orders with nothing, as in IEEE 754.
    Some(match ordering {
        None => op == CmpOp::Ne,
        Some(ordering) => match op {
            CmpOp::Eq => ordering == Ordering::Equal,
            CmpOp::Ne => ordering != Ordering::Equal,
            CmpOp::Lt => ordering == Ordering::Less,
            CmpOp::Le => ordering != Ordering::Greater,
            CmpOp::Gt => ordering == Ordering::Greater,
            CmpOp::Ge => ordering != Ordering::Less,
        },
    })
}

/// An exact comparison of a long with a double: `a as f64` would round large longs, making
/// `9223372036854775807 + 1 > 9223372036854775807` false. `None` for NaN.
fn cmp_long_double(a: i64, b: f64) -> Option<Ordering> {
    // 2^63, exactly representable: every i64 is below it and at or above its negation.
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if b.is_nan() {
        return None;
    }
    if b >= TWO_63 {
        return Some(Ordering::Less);
    }
    if b < -TWO_63 {
        return Some(Ordering::Greater);
    }
    // Now b's integral part fits an i64 exactly.
    let whole = b.trunc();
    let ordering = a.cmp(&(whole as i64));
    if ordering != Ordering::Equal {
        return Some(ordering);
    }
    let fraction = b - whole;
    Some(if fraction > 0.0 {
        Ordering::Less
    } else if fraction < 0.0 {
        Ordering::Greater
    } else {
        Ordering::Equal
    })
}

/// Arithmetic: NULL with NULL or a non-number; integers stay integers (with Java's
/// truncating division) until they would overflow, then the result is computed in f64
/// instead of wrapping; division by zero is NULL (UNKNOWN) rather than an infinity.
fn arith<'a>(op: ArithOp, left: Value<'a>, right: Value<'a>) -> Value<'a> {
    match (left, right) {
        (Value::Long(a), Value::Long(b)) => {
            if op == ArithOp::Div && b == 0 {
                return Value::Null;
            }
            let exact = match op {
                ArithOp::Add => a.checked_add(b),
                ArithOp::Sub => a.checked_sub(b),
                ArithOp::Mul => a.checked_mul(b),
                ArithOp::Div => a.checked_div(b),
            };
            exact.map_or_else(|| float_arith(op, a as f64, b as f64), Value::Long)
        }
        (Value::Long(a), Value::Double(b)) => float_arith(op, a as f64, b),
        (Value::Double(a), Value::Long(b)) => float_arith(op, a, b as f64),
        (Value::Double(a), Value::Double(b)) => float_arith(op, a, b),
        _ => Value::Null,
    }
}

fn float_arith<'a>(op: ArithOp, a: f64, b: f64) -> Value<'a> {
    Value::Double(match op {
        ArithOp::Add => a + b,
        ArithOp::Sub => a - b,
        ArithOp::Mul => a * b,
        ArithOp::Div if b == 0.0 => return Value::Null,
        ArithOp::Div => a / b,
    })
}

/// What an identifier means for this message (DESIGN.md §5 maps JMS headers to AMQP).
fn resolve<'a>(ident: &'a Ident, message: &'a Message) -> Value<'a> {
    let props = &message.properties;
    let short = |s: &'a Option<crate::message::ShortString>| match s {
        Some(s) => Value::Str(s.as_str()),
        None => Value::Null,
    };
    match ident {
        Ident::DeliveryMode => Value::Str(if message.is_persistent() {
            "PERSISTENT"
        } else {
            "NON_PERSISTENT"
        }),
        // JMS's default priority when the message carries none.
        Ident::Priority => Value::Long(props.priority().map_or(4, i64::from)),
        Ident::MessageId => short(props.message_id()),
        Ident::CorrelationId => short(props.correlation_id()),
        Ident::Type => short(props.kind()),
        Ident::ReplyTo => short(props.reply_to()),
        // The destination is the queue a selector runs on: nothing a message carries.
        Ident::Destination => Value::Null,
        // The exact milliseconds when the bridge kept them, else the AMQP timestamp
        // (seconds); 0 like a JMS message whose producer disabled timestamps.
        Ident::Timestamp => match message.header("JMSTimestamp").and_then(integer) {
            Some(ms) => Value::Long(ms),
            None => Value::Long(
                props
                    .timestamp()
                    .and_then(|s| i64::try_from(s).ok())
                    .and_then(|s| s.checked_mul(1000))
                    .unwrap_or(0),
            ),
        },
        // 0 is JMS's "never expires".
        Ident::Expiration => Value::Long(
            message
                .header("JMSExpiration")
                .and_then(integer)
                .unwrap_or(0),
        ),
        Ident::Redelivered => Value::Bool(delivery_count(message) >= 1),
        Ident::DeliveryCount => Value::Long(delivery_count(message).saturating_add(1)),
        Ident::Header(name) => message.header(name).map_or(Value::Null, header_value),
    }
}

/// Earlier deliveries, from the `x-delivery-count` header (0 when absent or not a number).
fn delivery_count(message: &Message) -> i64 {
    message
        .header("x-delivery-count")
        .and_then(integer)
        .unwrap_or(0)
}

fn integer(value: &AMQPValue) -> Option<i64> {
    match header_value(value) {
        Value::Long(v) => Some(v),
        _ => None,
    }
}

/// A header as a selector value: the types JMS properties have; anything else is NULL.
fn header_value(value: &AMQPValue) -> Value<'_> {
    match value {
        AMQPValue::Boolean(b) => Value::Bool(*b),
        AMQPValue::ShortShortInt(v) => Value::Long(i64::from(*v)),
        AMQPValue::ShortShortUInt(v) => Value::Long(i64::from(*v)),
        AMQPValue::ShortInt(v) => Value::Long(i64::from(*v)),
        AMQPValue::ShortUInt(v) => Value::Long(i64::from(*v)),
        AMQPValue::LongInt(v) => Value::Long(i64::from(*v)),
        AMQPValue::LongUInt(v) => Value::Long(i64::from(*v)),
        AMQPValue::LongLongInt(v) => Value::Long(*v),
        AMQPValue::Timestamp(v) => i64::try_from(*v).map_or(Value::Null, Value::Long),
        AMQPValue::Float(v) => Value::Double(f64::from(*v)),
        AMQPValue::Double(v) => Value::Double(*v),
        AMQPValue::ShortString(s) => Value::Str(s.as_str()),
        // Bytes that are not UTF-8 are no JMS string: NULL rather than a lossy guess that
        // could make `=` true for two different values.
        AMQPValue::LongString(s) => {
            std::str::from_utf8(s.as_bytes()).map_or(Value::Null, Value::Str)
        }
        AMQPValue::DecimalValue(_)
        | AMQPValue::FieldArray(_)
        | AMQPValue::FieldTable(_)
        | AMQPValue::ByteArray(_)
        | AMQPValue::Void => Value::Null,
    }
}
