//! AMQP values and message properties as the management API's JSON, both ways
//! (RabbitMQ's shapes: tables are objects, arrays are arrays, numbers, strings, booleans).

use serde_json::{Map, Value as Json};

use crate::message::{AMQPValue, BasicProperties, FieldArray, FieldTable, LongString, ShortString};

/// A field value as JSON. Byte arrays and decimals, which JSON has no type for, become
/// strings (lossily for non-UTF-8 bytes), as in RabbitMQ's API.
pub fn value_to_json(v: &AMQPValue) -> Json {
    match v {
        AMQPValue::Boolean(b) => Json::Bool(*b),
        AMQPValue::ShortShortInt(i) => Json::from(*i),
        AMQPValue::ShortShortUInt(i) => Json::from(*i),
        AMQPValue::ShortInt(i) => Json::from(*i),
        AMQPValue::ShortUInt(i) => Json::from(*i),
        AMQPValue::LongInt(i) => Json::from(*i),
        AMQPValue::LongUInt(i) => Json::from(*i),
        AMQPValue::LongLongInt(i) => Json::from(*i),
        AMQPValue::Float(f) => Json::from(f64::from(*f)),
        AMQPValue::Double(f) => Json::from(*f),
        AMQPValue::DecimalValue(d) => Json::String(format!("{}e-{}", d.value, d.scale)),
        AMQPValue::ShortString(s) => Json::String(s.as_str().to_string()),
        AMQPValue::LongString(s) => Json::String(String::from_utf8_lossy(s.as_bytes()).into()),
        AMQPValue::ByteArray(b) => Json::String(String::from_utf8_lossy(b.as_slice()).into()),
        AMQPValue::FieldArray(a) => Json::Array(a.as_slice().iter().map(value_to_json).collect()),
        AMQPValue::Timestamp(t) => Json::from(*t),
        AMQPValue::FieldTable(t) => table_to_json(t),
        AMQPValue::Void => Json::Null,
    }
}

pub fn table_to_json(t: &FieldTable) -> Json {
    Json::Object(
        t.inner()
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), value_to_json(v)))
            .collect(),
    )
}

/// A JSON value as an AMQP field value: integers become long-long ints, other numbers
/// doubles, strings long strings (RabbitMQ's API does the same).
pub fn json_to_value(j: &Json) -> Result<AMQPValue, String> {
    Ok(match j {
        Json::Null => AMQPValue::Void,
        Json::Bool(b) => AMQPValue::Boolean(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => AMQPValue::LongLongInt(i),
            None => AMQPValue::Double(n.as_f64().unwrap_or_default()),
        },
        Json::String(s) => AMQPValue::LongString(LongString::from(s.as_bytes())),
        Json::Array(items) => AMQPValue::FieldArray(FieldArray::from(
            items
                .iter()
                .map(json_to_value)
                .collect::<Result<Vec<_>, _>>()?,
        )),
        Json::Object(_) => AMQPValue::FieldTable(json_to_table(j)?),
    })
}

/// A JSON object (or null/absent) as a field table; keys must fit a short string.
pub fn json_to_table(j: &Json) -> Result<FieldTable, String> {
    let mut table = FieldTable::default();
    match j {
        Json::Null => {}
        Json::Object(map) => {
            for (k, v) in map {
                if k.len() > 255 {
                    return Err(format!("argument name '{k}' is longer than 255 bytes"));
                }
                table.insert(ShortString::from(k.clone()), json_to_value(v)?);
            }
        }
        other => return Err(format!("expected an object, got {other}")),
    }
    Ok(table)
}

/// Message properties as RabbitMQ's API shows them (only the ones set).
pub fn properties_to_json(p: &BasicProperties) -> Json {
    let mut m = Map::new();
    let mut put = |k: &str, v: Option<Json>| {
        if let Some(v) = v {
            m.insert(k.to_string(), v);
        }
    };
    let s = |v: &Option<ShortString>| v.as_ref().map(|s| Json::String(s.as_str().to_string()));
    put("content_type", s(p.content_type()));
    put("content_encoding", s(p.content_encoding()));
    put("headers", p.headers().as_ref().map(table_to_json));
    put("delivery_mode", p.delivery_mode().map(Json::from));
    put("priority", p.priority().map(Json::from));
    put("correlation_id", s(p.correlation_id()));
    put("reply_to", s(p.reply_to()));
    put("expiration", s(p.expiration()));
    put("message_id", s(p.message_id()));
    put("timestamp", p.timestamp().map(Json::from));
    put("type", s(p.kind()));
    put("user_id", s(p.user_id()));
    put("app_id", s(p.app_id()));
    put("cluster_id", s(p.cluster_id()));
    Json::Object(m)
}

/// Message properties from the API's JSON; unknown keys are refused like RabbitMQ does.
pub fn json_to_properties(j: &Json) -> Result<BasicProperties, String> {
    let mut p = BasicProperties::default();
    let map = match j {
        Json::Null => return Ok(p),
        Json::Object(map) => map,
        other => return Err(format!("properties: expected an object, got {other}")),
    };
    let text = |k: &str, v: &Json| -> Result<ShortString, String> {
        match v {
            Json::String(s) if s.len() <= 255 => Ok(ShortString::from(s.clone())),
            Json::String(_) => Err(format!("properties.{k}: longer than 255 bytes")),
            other => Err(format!("properties.{k}: expected a string, got {other}")),
        }
    };
    let int = |k: &str, v: &Json, max: u64| -> Result<u64, String> {
        v.as_u64()
            .filter(|n| *n <= max)
            .ok_or_else(|| format!("properties.{k}: expected an integer from 0 to {max}"))
    };
    for (k, v) in map {
        p = match k.as_str() {
            "content_type" => p.with_content_type(text(k, v)?),
            "content_encoding" => p.with_content_encoding(text(k, v)?),
            "headers" => p.with_headers(json_to_table(v).map_err(|e| format!("headers: {e}"))?),
            "delivery_mode" => p.with_delivery_mode(int(k, v, 2)? as u8),
            "priority" => p.with_priority(int(k, v, 255)? as u8),
            "correlation_id" => p.with_correlation_id(text(k, v)?),
            "reply_to" => p.with_reply_to(text(k, v)?),
            "expiration" => p.with_expiration(text(k, v)?),
            "message_id" => p.with_message_id(text(k, v)?),
            "timestamp" => p.with_timestamp(int(k, v, u64::MAX)?),
            "type" => p.with_type(text(k, v)?),
            "user_id" => p.with_user_id(text(k, v)?),
            "app_id" => p.with_app_id(text(k, v)?),
            "cluster_id" => p.with_cluster_id(text(k, v)?),
            other => return Err(format!("properties: unknown property '{other}'")),
        };
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tables_round_trip_through_json() {
        let j = json!({"x-max-length": 10, "x-dead-letter-exchange": "dlx", "nested": {"a": [1, true]}});
        let t = json_to_table(&j).unwrap();
        assert_eq!(table_to_json(&t), j);
    }

    #[test]
    fn properties_round_trip_and_unknown_ones_are_refused() {
        let j = json!({"content_type": "text/plain", "delivery_mode": 2, "headers": {"k": "v"},
                       "priority": 3, "message_id": "m1", "timestamp": 1700000000});
        let p = json_to_properties(&j).unwrap();
        assert_eq!(properties_to_json(&p), j);
        assert!(json_to_properties(&json!({"delivery_mode": 3})).is_err());
        assert!(json_to_properties(&json!({"colour": "red"})).is_err());
        assert!(json_to_table(&json!([1])).is_err());
    }
}
