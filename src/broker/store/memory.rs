//! The in-memory [`Store`]: the same semantics as the fjall store, nothing on disk.
//!
//! Used when the configuration has no storage directory (`storage: { dir: null }`) and in
//! tests. It owns its maps behind one mutex; `on_durable` runs at once, on the caller's
//! thread, after the lock is released (so a callback may call back into the store).

use std::collections::BTreeMap;
use std::sync::Arc;

use parking_lot::Mutex;

use super::{
    BindingRecord, DestinationKind, ExchangeRecord, MessageOp, OnDurable, QueueRecord, Recovered,
    RecoveredMessage, RecoveredQueue, Store, StoreResult,
};
use crate::message::Message;

type Name = (String, String);
/// A queue's stored messages by seq: (expires_at, message).
type QueueMessages = BTreeMap<u64, (Option<u64>, Arc<Message>)>;

#[derive(Default)]
struct Inner {
    exchanges: BTreeMap<Name, ExchangeRecord>,
    queues: BTreeMap<Name, QueueRecord>,
    /// In insertion order, without duplicates.
    bindings: Vec<BindingRecord>,
    messages: BTreeMap<Name, QueueMessages>,
}

/// A [`Store`] kept in memory; see the module documentation.
#[derive(Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }
}

fn name(vhost: &str, name: &str) -> Name {
    (vhost.to_owned(), name.to_owned())
}

impl Store for MemoryStore {
    fn save_exchange(&self, record: &ExchangeRecord) -> StoreResult<()> {
        let mut inner = self.inner.lock();
        inner
            .exchanges
            .insert(name(&record.vhost, &record.name), record.clone());
        Ok(())
    }

    fn delete_exchange(&self, vhost: &str, ex: &str) -> StoreResult<()> {
        let mut inner = self.inner.lock();
        inner.exchanges.remove(&name(vhost, ex));
        inner.bindings.retain(|b| {
            !(b.vhost == vhost
                && (b.source == ex
                    || (b.destination_kind == DestinationKind::Exchange && b.destination == ex)))
        });
        Ok(())
    }

    fn save_queue(&self, record: &QueueRecord) -> StoreResult<()> {
        let mut inner = self.inner.lock();
        inner
            .queues
            .insert(name(&record.vhost, &record.name), record.clone());
        Ok(())
    }

    fn delete_queue(&self, vhost: &str, queue: &str) -> StoreResult<()> {
        let mut inner = self.inner.lock();
        let id = name(vhost, queue);
        inner.queues.remove(&id);
        inner.messages.remove(&id);
        inner.bindings.retain(|b| {
            !(b.vhost == vhost
                && b.destination_kind == DestinationKind::Queue
                && b.destination == queue)
        });
        Ok(())
    }

    fn save_binding(&self, record: &BindingRecord) -> StoreResult<()> {
        let mut inner = self.inner.lock();
        if !inner.bindings.contains(record) {
            inner.bindings.push(record.clone());
        }
        Ok(())
    }

    fn delete_binding(&self, record: &BindingRecord) -> StoreResult<()> {
        self.inner.lock().bindings.retain(|b| b != record);
        Ok(())
    }

    fn purge_queue(&self, vhost: &str, queue: &str) -> StoreResult<()> {
        self.inner.lock().messages.remove(&name(vhost, queue));
        Ok(())
    }

    fn submit(&self, ops: Vec<MessageOp>, on_durable: Option<OnDurable>) {
        {
            let mut inner = self.inner.lock();
            for op in ops {
                match op {
                    MessageOp::Enqueue {
                        vhost,
                        queue,
                        seq,
                        expires_at,
                        message,
                    } => {
                        inner
                            .messages
                            .entry((vhost, queue))
                            .or_default()
                            .insert(seq, (expires_at, message));
                    }
                    MessageOp::Remove { vhost, queue, seq } => {
                        let id = (vhost, queue);
                        if let Some(q) = inner.messages.get_mut(&id) {
                            q.remove(&seq);
                            if q.is_empty() {
                                inner.messages.remove(&id);
                            }
                        }
                    }
                }
            }
        }
        if let Some(cb) = on_durable {
            cb(Ok(()));
        }
    }

    fn recover(&self) -> StoreResult<Recovered> {
        let inner = self.inner.lock();
        let queues = inner
            .queues
            .iter()
            .map(|(id, record)| RecoveredQueue {
                record: record.clone(),
                messages: inner
                    .messages
                    .get(id)
                    .map(|q| {
                        q.iter()
                            .map(|(&seq, (expires_at, m))| RecoveredMessage {
                                seq,
                                expires_at: *expires_at,
                                message: Message::clone(m),
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
            })
            .collect();
        Ok(Recovered {
            exchanges: inner.exchanges.values().cloned().collect(),
            queues,
            bindings: inner.bindings.clone(),
        })
    }

    fn flush(&self) -> StoreResult<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{BasicProperties, FieldTable};
    use bytes::Bytes;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn msg(body: &str) -> Arc<Message> {
        Arc::new(Message::new(
            "",
            "q",
            BasicProperties::default(),
            Bytes::from(body.to_owned()),
        ))
    }

    fn enq(q: &str, seq: u64) -> MessageOp {
        MessageOp::Enqueue {
            vhost: "/".into(),
            queue: q.into(),
            seq,
            expires_at: None,
            message: msg(&format!("m{seq}")),
        }
    }

    fn rem(q: &str, seq: u64) -> MessageOp {
        MessageOp::Remove {
            vhost: "/".into(),
            queue: q.into(),
            seq,
        }
    }

    fn queue(n: &str) -> QueueRecord {
        QueueRecord {
            vhost: "/".into(),
            name: n.into(),
            auto_delete: false,
            arguments: FieldTable::default(),
        }
    }

    fn binding(src: &str, dst: &str, kind: DestinationKind) -> BindingRecord {
        BindingRecord {
            vhost: "/".into(),
            source: src.into(),
            destination: dst.into(),
            destination_kind: kind,
            routing_key: "k".into(),
            arguments: FieldTable::default(),
        }
    }

    #[test]
    fn messages_topology_and_callbacks() {
        let s = MemoryStore::new();
        s.save_queue(&queue("a")).unwrap();
        s.save_queue(&queue("b")).unwrap();
        s.save_exchange(&ExchangeRecord {
            vhost: "/".into(),
            name: "x".into(),
            kind: "direct".into(),
            auto_delete: false,
            internal: false,
            arguments: FieldTable::default(),
        })
        .unwrap();
        s.save_binding(&binding("x", "a", DestinationKind::Queue))
            .unwrap();
        s.save_binding(&binding("x", "a", DestinationKind::Queue))
            .unwrap();
        s.save_binding(&binding("x", "b", DestinationKind::Queue))
            .unwrap();
        let calls = Arc::new(AtomicUsize::new(0));
        for seq in [3, 1, 2] {
            let c = calls.clone();
            s.submit(
                vec![enq("a", seq), enq("b", seq)],
                Some(Box::new(move |r| {
                    assert!(r.is_ok());
                    c.fetch_add(1, Ordering::SeqCst);
                })),
            );
        }
        s.submit(vec![rem("a", 2), enq("a", 9), rem("a", 9)], None);
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        let r = s.recover().unwrap();
        assert_eq!(r.bindings.len(), 2);
        let seqs: Vec<u64> = r.queues[0].messages.iter().map(|m| m.seq).collect();
        assert_eq!(seqs, vec![1, 3]);

        s.purge_queue("/", "b").unwrap();
        s.delete_queue("/", "a").unwrap();
        let r = s.recover().unwrap();
        assert_eq!(r.queues.len(), 1);
        assert!(r.queues[0].messages.is_empty());
        assert_eq!(r.bindings, vec![binding("x", "b", DestinationKind::Queue)]);
        s.delete_exchange("/", "x").unwrap();
        let r = s.recover().unwrap();
        assert!(r.exchanges.is_empty() && r.bindings.is_empty());
        s.flush().unwrap();
    }
}
