//! Headers-exchange matching: `x-match` `all` or `any` (and RabbitMQ's `all-with-x` and
//! `any-with-x`, which also compare `x-` prefixed arguments).
//!
//! A binding argument with a void value matches on presence alone; any other value must
//! be equal. Arguments starting with `x-` are ignored unless the `-with-x` form is used.

use crate::broker::queue::args::{integer, text};
use crate::message::{AMQPValue, FieldTable};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchMode {
    All,
    Any,
    AllWithX,
    AnyWithX,
}

/// The `x-match` argument of a binding; `all` when absent. An unknown value is an error
/// text (RabbitMQ answers it with 406 on bind).
pub fn match_mode(arguments: &FieldTable) -> Result<MatchMode, String> {
    match arguments.inner().get("x-match") {
        None => Ok(MatchMode::All),
        Some(v) => match text(v).as_deref() {
            Some("all") => Ok(MatchMode::All),
            Some("any") => Ok(MatchMode::Any),
            Some("all-with-x") => Ok(MatchMode::AllWithX),
            Some("any-with-x") => Ok(MatchMode::AnyWithX),
            _ => Err(format!(
                "invalid x-match field value {v:?}; expected all, any, all-with-x, or any-with-x"
            )),
        },
    }
}

/// Whether a message with `headers` matches a binding with `arguments`.
pub fn matches(arguments: &FieldTable, mode: MatchMode, headers: Option<&FieldTable>) -> bool {
    let with_x = matches!(mode, MatchMode::AllWithX | MatchMode::AnyWithX);
    let any = matches!(mode, MatchMode::Any | MatchMode::AnyWithX);
    let empty = FieldTable::default();
    let headers = headers.unwrap_or(&empty).inner();
    for (key, expected) in arguments.inner() {
        let key = key.as_str();
        if key == "x-match" || (!with_x && key.starts_with("x-")) {
            continue;
        }
        let hit = match headers.get(key) {
            None => false,
            Some(actual) => matches!(expected, AMQPValue::Void) || values_equal(expected, actual),
        };
        if any && hit {
            return true;
        }
        if !any && !hit {
            return false;
        }
    }
    // Every pair matched (all), or none did (any). `all` with nothing to compare matches
    // every message; `any` with nothing to compare matches none.
    !any
}

/// Equality across the string encodings, since clients send text as short or long strings.
fn values_equal(a: &AMQPValue, b: &AMQPValue) -> bool {
    match (text(a), text(b)) {
        (Some(x), Some(y)) => x == y,
        _ => integer(a).zip(integer(b)).map_or(a == b, |(x, y)| x == y),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{LongString, ShortString};

    fn table(pairs: &[(&str, AMQPValue)]) -> FieldTable {
        let mut t = FieldTable::default();
        for (k, v) in pairs {
            t.insert(ShortString::from(*k), v.clone());
        }
        t
    }

    fn s(v: &str) -> AMQPValue {
        AMQPValue::LongString(LongString::from(v))
    }

    #[test]
    fn all_needs_every_pair() {
        let args = table(&[
            ("x-match", s("all")),
            ("format", s("pdf")),
            ("type", s("report")),
        ]);
        let mode = match_mode(&args).unwrap();
        let both = table(&[
            ("format", s("pdf")),
            ("type", s("report")),
            ("extra", s("x")),
        ]);
        let one = table(&[("format", s("pdf"))]);
        assert!(matches(&args, mode, Some(&both)));
        assert!(!matches(&args, mode, Some(&one)));
        assert!(!matches(&args, mode, None));
    }

    #[test]
    fn any_needs_one_pair() {
        let args = table(&[
            ("x-match", s("any")),
            ("format", s("pdf")),
            ("type", s("report")),
        ]);
        let mode = match_mode(&args).unwrap();
        assert!(matches(&args, mode, Some(&table(&[("type", s("report"))]))));
        assert!(!matches(&args, mode, Some(&table(&[("type", s("log"))]))));
        assert!(!matches(&args, mode, None));
    }

    #[test]
    fn types_and_presence() {
        let args = table(&[("n", AMQPValue::LongInt(5)), ("flag", AMQPValue::Void)]);
        let mode = match_mode(&args).unwrap();
        let h = table(&[
            ("n", AMQPValue::LongLongInt(5)),
            ("flag", AMQPValue::Boolean(true)),
        ]);
        assert!(matches(&args, mode, Some(&h)));
        let h = table(&[("n", AMQPValue::ShortShortInt(6)), ("flag", s("x"))]);
        assert!(!matches(&args, mode, Some(&h)));
        let short = table(&[("k", AMQPValue::ShortString(ShortString::from("v")))]);
        assert!(matches(
            &table(&[("k", s("v"))]),
            MatchMode::All,
            Some(&short)
        ));
    }

    #[test]
    fn x_arguments_only_with_x_modes() {
        let args = table(&[("x-match", s("all-with-x")), ("x-tenant", s("a"))]);
        let mode = match_mode(&args).unwrap();
        assert!(matches(&args, mode, Some(&table(&[("x-tenant", s("a"))]))));
        assert!(!matches(&args, mode, Some(&table(&[("x-tenant", s("b"))]))));
        let plain = table(&[("x-match", s("all")), ("x-tenant", s("a"))]);
        assert!(matches(&plain, MatchMode::All, None));
    }

    #[test]
    fn bad_x_match_is_an_error() {
        assert!(match_mode(&table(&[("x-match", s("some"))])).is_err());
        assert!(match_mode(&table(&[("x-match", AMQPValue::LongInt(1))])).is_err());
    }
}
