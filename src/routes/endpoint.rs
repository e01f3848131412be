//! A route's two ends, whatever their protocol: a [`Source`] to read and acknowledge, a
//! [`Sink`] to send to and await confirms from. One enum variant per kind of peer keeps
//! the worker free of protocol detail.

use std::sync::Arc;

use crate::broker::Broker;
use crate::client::{ClientError, Confirm, Received};
use crate::config::{ConnectionConfig, SourceAddress, SourceConfig, TargetConfig};
use crate::selector::Selector;

use super::core::{CoreSink, CoreSource};
use super::translate::{Outbound, Target};

/// What a route needs to open its ends.
#[derive(Debug)]
pub struct Context {
    pub broker: Arc<Broker>,
}

/// Where a route reads.
pub enum Source {
    Core(CoreSource),
}

impl Source {
    pub async fn open(
        config: &SourceConfig,
        connection: Option<&ConnectionConfig>,
        prefetch: u16,
        ctx: &Context,
    ) -> Result<Source, ClientError> {
        match connection {
            None => {
                let SourceAddress::Queue(queue) = &config.address else {
                    return Err(ClientError::rejected("a core source reads a queue"));
                };
                Ok(Source::Core(CoreSource::open(
                    &ctx.broker,
                    &config.vhost,
                    queue,
                    config.selector.as_deref(),
                    prefetch,
                )?))
            }
            Some(c) => Err(ClientError::rejected(format!(
                "connection '{}' ({}) cannot be a source yet",
                c.name,
                c.kind.protocol()
            ))),
        }
    }

    /// The selector the route must apply itself, for peers that cannot select (AMQP).
    pub fn needs_bridge_selector(&self) -> bool {
        false
    }

    pub async fn recv(&mut self) -> Result<Received, ClientError> {
        match self {
            Source::Core(s) => s.recv().await,
        }
    }

    pub async fn ack(&mut self, tag: u64) -> Result<(), ClientError> {
        match self {
            Source::Core(s) => s.ack(tag),
        }
    }

    /// Give a message up without a dead-letter target of the route's own: it goes back to
    /// the source without requeue, so the source's own dead-lettering applies.
    pub async fn give_up(&mut self, tag: u64) -> Result<(), ClientError> {
        match self {
            Source::Core(s) => s.reject(tag),
        }
    }

    pub async fn close(self) {
        match self {
            Source::Core(s) => drop(s),
        }
    }
}

/// Compile a source's selector for evaluation in the bridge.
pub fn bridge_selector(config: &SourceConfig) -> Option<Selector> {
    config
        .selector
        .as_deref()
        .and_then(|s| Selector::parse(s).ok())
}

/// Where a route writes.
pub enum Sink {
    Core(CoreSink),
}

impl Sink {
    pub async fn open(
        config: &TargetConfig,
        connection: Option<&ConnectionConfig>,
        ctx: &Context,
    ) -> Result<Sink, ClientError> {
        match connection {
            None => Ok(Sink::Core(CoreSink::open(&ctx.broker, &config.vhost)?)),
            Some(c) => Err(ClientError::rejected(format!(
                "connection '{}' ({}) cannot be a target yet",
                c.name,
                c.kind.protocol()
            ))),
        }
    }

    /// Send one message; the returned confirm resolves when the peer took it.
    pub async fn send(&self, outbound: &Outbound) -> Result<Confirm, ClientError> {
        match (self, &outbound.target) {
            (Sink::Core(sink), Target::Exchange { .. }) => {
                Ok(sink.publish(outbound.message.clone()))
            }
            (_, target) => Err(ClientError::rejected(format!(
                "this target cannot take {target:?}"
            ))),
        }
    }

    pub async fn close(self) {
        match self {
            Sink::Core(_) => {}
        }
    }
}
