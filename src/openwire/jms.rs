//! Wire [`Message`] ↔ the protocol-neutral [`JmsMessage`] that `mapping::openwire` maps to
//! the core. The wire-only parts live here: the MessageId (its text is JMSMessageID), the
//! producer id, the marshalled properties and the marshalled (possibly compressed) body.
//!
//! Bodies stay zero-copy where they were: a Bytes/Object body is a slice of the frame, and
//! a Bytes body going out is the core message's buffer.

use bytes::Bytes;

use super::codec::{Destination, DestinationKind, Message, MessageId, ProducerId};
use super::message::JmsBody;
use crate::mapping::openwire::MappingError;
use crate::message::jms::{JmsDestination, JmsDestinationKind, JmsMessage};

/// A wire destination → the neutral one (an absent physical name is the empty name).
pub fn destination_to_jms(d: &Destination) -> JmsDestination {
    let kind = match d.kind {
        DestinationKind::Queue => JmsDestinationKind::Queue,
        DestinationKind::Topic => JmsDestinationKind::Topic,
        DestinationKind::TempQueue => JmsDestinationKind::TempQueue,
        DestinationKind::TempTopic => JmsDestinationKind::TempTopic,
    };
    JmsDestination::new(kind, d.name())
}

/// A neutral destination → the wire one.
pub fn destination_from_jms(d: &JmsDestination) -> Destination {
    let kind = match d.kind {
        JmsDestinationKind::Queue => DestinationKind::Queue,
        JmsDestinationKind::Topic => DestinationKind::Topic,
        JmsDestinationKind::TempQueue => DestinationKind::TempQueue,
        JmsDestinationKind::TempTopic => DestinationKind::TempTopic,
    };
    Destination::new(kind, d.name.clone())
}

/// The JMS view of a message a producer sent: body and properties decoded (the body
/// inflated when compressed), JMSMessageID as text.
pub fn to_jms(m: &Message) -> Result<JmsMessage, MappingError> {
    let body = m
        .body()
        .map_err(|e| MappingError::new("body", e.to_string()))?;
    let properties = m
        .properties()
        .map_err(|e| MappingError::new("properties", e.to_string()))?;
    Ok(JmsMessage {
        kind: m.kind,
        message_id: m.jms_message_id(),
        correlation_id: m.correlation_id.clone(),
        destination: m.destination.as_ref().map(destination_to_jms),
        reply_to: m.reply_to.as_ref().map(destination_to_jms),
        jms_type: m.jms_type.clone(),
        priority: m.priority,
        persistent: m.persistent,
        expiration: m.expiration,
        timestamp: m.timestamp,
        redelivery_counter: m.redelivery_counter,
        user_id: m.user_id.clone(),
        group_id: m.group_id.clone(),
        group_sequence: m.group_sequence,
        properties,
        body,
    })
}

/// The wire message of a JMS message going to a consumer. The MessageId keeps the
/// JMSMessageID as its text (the writer sets the producer and sequence ids); the body is
/// not compressed. A body the wire cannot carry goes as a BytesMessage of `fallback_body`
/// (the core message's bytes); properties it cannot carry are dropped.
pub fn from_jms(jms: JmsMessage, fallback_body: &Bytes) -> Message {
    let mut m = Message {
        kind: jms.kind,
        destination: jms.destination.as_ref().map(destination_from_jms),
        message_id: Some(MessageId {
            text_view: jms.message_id,
            ..MessageId::default()
        }),
        correlation_id: jms.correlation_id,
        reply_to: jms.reply_to.as_ref().map(destination_from_jms),
        jms_type: jms.jms_type,
        priority: jms.priority,
        persistent: jms.persistent,
        expiration: jms.expiration,
        timestamp: jms.timestamp,
        redelivery_counter: jms.redelivery_counter,
        user_id: jms.user_id,
        group_id: jms.group_id,
        group_sequence: jms.group_sequence,
        ..Message::default()
    };
    if let Err(e) = m.set_body(&jms.body, false) {
        tracing::debug!(error = %e, "JMS body could not be encoded; sent as bytes.");
        let _ = m.set_body(&JmsBody::Bytes(fallback_body.clone()), false);
    }
    if let Err(e) = m.set_properties(&jms.properties) {
        tracing::debug!(error = %e, "JMS properties could not be encoded; dropped.");
        let _ = m.set_properties(&[]);
    }
    m
}

/// The synthetic MessageId of a message the bridge makes itself (advisories).
pub fn synthetic_message_id(producer: ProducerId, seq: i64) -> MessageId {
    MessageId {
        text_view: None,
        producer_id: Some(producer),
        producer_sequence_id: seq,
        broker_sequence_id: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::jms::{JmsKind, JmsValue};
    use crate::openwire::codec::MessageKind;

    fn producer() -> ProducerId {
        ProducerId {
            connection_id: Some("ID:host-1-2-3:1".into()),
            value: 1,
            session_id: 1,
        }
    }

    fn wire() -> Message {
        let mut m = Message {
            producer_id: Some(producer()),
            destination: Some(Destination::queue("q")),
            message_id: Some(synthetic_message_id(producer(), 5)),
            correlation_id: Some("corr-1".into()),
            persistent: true,
            expiration: 1_700_000_060_000,
            priority: 7,
            reply_to: Some(Destination::new(DestinationKind::TempTopic, "t.r")),
            timestamp: 1_700_000_000_123,
            jms_type: Some("probe-type".into()),
            group_id: Some("g".into()),
            group_sequence: 3,
            user_id: Some("u".into()),
            redelivery_counter: 2,
            ..Message::default()
        };
        m.set_body(&JmsBody::Text("hello 😀".into()), false)
            .unwrap();
        m.set_properties(&[("p".to_string(), JmsValue::Int(1))])
            .unwrap();
        m
    }

    #[test]
    fn wire_to_jms_reads_every_jms_field() {
        let jms = to_jms(&wire()).unwrap();
        assert_eq!(jms.kind, JmsKind::Text);
        assert_eq!(jms.message_id.as_deref(), Some("ID:host-1-2-3:1:1:1:5"));
        assert_eq!(jms.correlation_id.as_deref(), Some("corr-1"));
        assert_eq!(jms.destination, Some(JmsDestination::queue("q")));
        assert_eq!(
            jms.reply_to,
            Some(JmsDestination::new(JmsDestinationKind::TempTopic, "t.r"))
        );
        assert_eq!(jms.jms_type.as_deref(), Some("probe-type"));
        assert_eq!(jms.priority, 7);
        assert!(jms.persistent);
        assert_eq!(jms.expiration, 1_700_000_060_000);
        assert_eq!(jms.timestamp, 1_700_000_000_123);
        assert_eq!(jms.redelivery_counter, 2);
        assert_eq!(jms.user_id.as_deref(), Some("u"));
        assert_eq!(jms.group_id.as_deref(), Some("g"));
        assert_eq!(jms.group_sequence, 3);
        assert_eq!(jms.properties, vec![("p".to_string(), JmsValue::Int(1))]);
        assert_eq!(jms.body, JmsBody::Text("hello 😀".into()));
    }

    #[test]
    fn jms_to_wire_and_back_keeps_the_jms_fields() {
        let jms = to_jms(&wire()).unwrap();
        let back = from_jms(jms.clone(), &Bytes::new());
        assert_eq!(back.kind, MessageKind::Text);
        assert_eq!(
            back.message_id.as_ref().unwrap().text_view.as_deref(),
            Some("ID:host-1-2-3:1:1:1:5")
        );
        assert_eq!(to_jms(&back).unwrap(), jms);
    }

    #[test]
    fn a_malformed_body_is_a_mapping_error() {
        let mut m = wire();
        m.content = Some(Bytes::from_static(&[0, 0, 0, 9, b'x']));
        let e = to_jms(&m).unwrap_err();
        assert_eq!(e.field, "body");
    }
}
