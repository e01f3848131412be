//! [`Command`]: every top-level OpenWire command this codec reads or writes, and
//! [`DataStructure`]: anything that may appear where the layout says "any data structure"
//! (`RemoveInfo.objectId`, `Message.dataStructure`, `DataResponse.data`).

use super::broker_info::BrokerInfo;
use super::connection_control::ConnectionControl;
use super::connection_error::ConnectionError;
use super::connection_info::ConnectionInfo;
use super::consumer_control::ConsumerControl;
use super::consumer_info::ConsumerInfo;
use super::control_command::ControlCommand;
use super::data_array_response::DataArrayResponse;
use super::data_response::DataResponse;
use super::destination::Destination;
use super::destination_info::DestinationInfo;
use super::exception_response::ExceptionResponse;
use super::flush_command::FlushCommand;
use super::ids::{
    BrokerId, ConnectionId, ConsumerId, MessageId, ProducerId, SessionId, TransactionId,
};
use super::integer_response::IntegerResponse;
use super::keep_alive_info::KeepAliveInfo;
use super::loose::{BaseCommand, Marshal, Reader, Writer};
use super::message::Message;
use super::message_ack::MessageAck;
use super::message_dispatch::MessageDispatch;
use super::message_pull::MessagePull;
use super::producer_ack::ProducerAck;
use super::producer_info::ProducerInfo;
use super::remove_info::RemoveInfo;
use super::remove_subscription_info::RemoveSubscriptionInfo;
use super::response::Response;
use super::session_info::SessionInfo;
use super::shutdown_info::ShutdownInfo;
use super::transaction_info::TransactionInfo;
use super::wire_format_info::WireFormatInfo;
use super::CodecError;

/// A top-level command (one frame).
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    WireFormatInfo(WireFormatInfo),
    BrokerInfo(BrokerInfo),
    ConnectionInfo(ConnectionInfo),
    SessionInfo(SessionInfo),
    ConsumerInfo(ConsumerInfo),
    ProducerInfo(ProducerInfo),
    TransactionInfo(TransactionInfo),
    DestinationInfo(DestinationInfo),
    RemoveSubscriptionInfo(RemoveSubscriptionInfo),
    KeepAliveInfo(KeepAliveInfo),
    ShutdownInfo(ShutdownInfo),
    RemoveInfo(RemoveInfo),
    ControlCommand(ControlCommand),
    FlushCommand(FlushCommand),
    ConnectionError(ConnectionError),
    ConsumerControl(ConsumerControl),
    ConnectionControl(ConnectionControl),
    ProducerAck(ProducerAck),
    MessagePull(MessagePull),
    MessageDispatch(MessageDispatch),
    MessageAck(MessageAck),
    /// Types 23–28 ([`Message::kind`]).
    Message(Box<Message>),
    Response(Response),
    ExceptionResponse(ExceptionResponse),
    DataResponse(DataResponse),
    DataArrayResponse(DataArrayResponse),
    IntegerResponse(IntegerResponse),
}

macro_rules! command_table {
    ($($variant:ident),* $(,)?) => {
        impl Command {
            /// The data structure type id.
            pub fn type_id(&self) -> u8 {
                match self {
                    $(Command::$variant(c) => c.type_id(),)*
                }
            }

            /// The command's name, for logs.
            pub fn name(&self) -> &'static str {
                match self {
                    $(Command::$variant(_) => stringify!($variant),)*
                }
            }

            /// Whether `type_id` is a command this codec decodes.
            pub fn is_known(type_id: u8) -> bool {
                false $(|| <$variant as Marshal>::accepts(type_id))*
            }

            /// Decodes the body of a command whose type byte was `type_id`.
            pub fn decode_body(type_id: u8, r: &mut Reader) -> Result<Command, CodecError> {
                $(
                    if <$variant as Marshal>::accepts(type_id) {
                        return Ok(command_table!(@wrap $variant, <$variant as Marshal>::decode_body(type_id, r)?));
                    }
                )*
                Err(CodecError::UnknownType { type_id, command_id: None })
            }

            /// Encodes the body (after the type byte).
            pub fn encode_body(&self, w: &mut Writer<'_>) -> Result<(), CodecError> {
                match self {
                    $(Command::$variant(c) => c.encode_body(w),)*
                }
            }
        }
    };
    (@wrap Message, $e:expr) => { Command::Message(Box::new($e)) };
    (@wrap $variant:ident, $e:expr) => { Command::$variant($e) };
}

command_table!(
    WireFormatInfo,
    BrokerInfo,
    ConnectionInfo,
    SessionInfo,
    ConsumerInfo,
    ProducerInfo,
    TransactionInfo,
    DestinationInfo,
    RemoveSubscriptionInfo,
    KeepAliveInfo,
    ShutdownInfo,
    RemoveInfo,
    ControlCommand,
    FlushCommand,
    ConnectionError,
    ConsumerControl,
    ConnectionControl,
    ProducerAck,
    MessagePull,
    MessageDispatch,
    MessageAck,
    Message,
    Response,
    ExceptionResponse,
    DataResponse,
    DataArrayResponse,
    IntegerResponse,
);

impl Command {
    /// The BaseCommand header (`None` for WireFormatInfo, which has none).
    pub fn base(&self) -> Option<BaseCommand> {
        Some(match self {
            Command::WireFormatInfo(_) => return None,
            Command::BrokerInfo(c) => c.base,
            Command::ConnectionInfo(c) => c.base,
            Command::SessionInfo(c) => c.base,
            Command::ConsumerInfo(c) => c.base,
            Command::ProducerInfo(c) => c.base,
            Command::TransactionInfo(c) => c.base,
            Command::DestinationInfo(c) => c.base,
            Command::RemoveSubscriptionInfo(c) => c.base,
            Command::KeepAliveInfo(c) => c.base,
            Command::ShutdownInfo(c) => c.base,
            Command::RemoveInfo(c) => c.base,
            Command::ControlCommand(c) => c.base,
            Command::FlushCommand(c) => c.base,
            Command::ConnectionError(c) => c.base,
            Command::ConsumerControl(c) => c.base,
            Command::ConnectionControl(c) => c.base,
            Command::ProducerAck(c) => c.base,
            Command::MessagePull(c) => c.base,
            Command::MessageDispatch(c) => c.base,
            Command::MessageAck(c) => c.base,
            Command::Message(c) => c.base,
            Command::Response(c) => c.base,
            Command::ExceptionResponse(c) => c.base,
            Command::DataResponse(c) => c.base,
            Command::DataArrayResponse(c) => c.base,
            Command::IntegerResponse(c) => c.base,
        })
    }

    /// The command id (0 for WireFormatInfo).
    pub fn command_id(&self) -> i32 {
        self.base().map_or(0, |b| b.command_id)
    }

    /// Whether the peer waits for a Response to this command.
    pub fn response_required(&self) -> bool {
        self.base().is_some_and(|b| b.response_required)
    }
}

/// Any data structure that may be nested generically.
#[derive(Debug, Clone, PartialEq)]
pub enum DataStructure {
    ConnectionId(ConnectionId),
    SessionId(SessionId),
    ConsumerId(ConsumerId),
    ProducerId(ProducerId),
    BrokerId(BrokerId),
    MessageId(MessageId),
    TransactionId(TransactionId),
    Destination(Destination),
    Command(Box<Command>),
}

impl Marshal for DataStructure {
    const TYPE: u8 = 0;
    const NAME: &'static str = "DataStructure";
    fn accepts(type_id: u8) -> bool {
        ConnectionId::accepts(type_id)
            || SessionId::accepts(type_id)
            || ConsumerId::accepts(type_id)
            || ProducerId::accepts(type_id)
            || BrokerId::accepts(type_id)
            || MessageId::accepts(type_id)
            || TransactionId::accepts(type_id)
            || Destination::accepts(type_id)
            || Command::is_known(type_id)
    }
    fn type_id(&self) -> u8 {
        match self {
            DataStructure::ConnectionId(v) => v.type_id(),
            DataStructure::SessionId(v) => v.type_id(),
            DataStructure::ConsumerId(v) => v.type_id(),
            DataStructure::ProducerId(v) => v.type_id(),
            DataStructure::BrokerId(v) => v.type_id(),
            DataStructure::MessageId(v) => v.type_id(),
            DataStructure::TransactionId(v) => v.type_id(),
            DataStructure::Destination(v) => v.type_id(),
            DataStructure::Command(v) => v.type_id(),
        }
    }
    fn decode_body(type_id: u8, r: &mut Reader) -> Result<Self, CodecError> {
        Ok(match type_id {
            120 => DataStructure::ConnectionId(ConnectionId::decode_body(type_id, r)?),
            121 => DataStructure::SessionId(SessionId::decode_body(type_id, r)?),
            122 => DataStructure::ConsumerId(ConsumerId::decode_body(type_id, r)?),
            123 => DataStructure::ProducerId(ProducerId::decode_body(type_id, r)?),
            124 => DataStructure::BrokerId(BrokerId::decode_body(type_id, r)?),
            110 => DataStructure::MessageId(MessageId::decode_body(type_id, r)?),
            111 | 112 => DataStructure::TransactionId(TransactionId::decode_body(type_id, r)?),
            100..=103 => DataStructure::Destination(Destination::decode_body(type_id, r)?),
            _ => DataStructure::Command(Box::new(Command::decode_body(type_id, r)?)),
        })
    }
    fn encode_body(&self, w: &mut Writer<'_>) -> Result<(), CodecError> {
        match self {
            DataStructure::ConnectionId(v) => v.encode_body(w),
            DataStructure::SessionId(v) => v.encode_body(w),
            DataStructure::ConsumerId(v) => v.encode_body(w),
            DataStructure::ProducerId(v) => v.encode_body(w),
            DataStructure::BrokerId(v) => v.encode_body(w),
            DataStructure::MessageId(v) => v.encode_body(w),
            DataStructure::TransactionId(v) => v.encode_body(w),
            DataStructure::Destination(v) => v.encode_body(w),
            DataStructure::Command(v) => v.encode_body(w),
        }
    }
}

macro_rules! from_command {
    ($($variant:ident),*) => {$(
        impl From<$variant> for Command {
            fn from(c: $variant) -> Command {
                Command::$variant(c)
            }
        }
    )*};
}

from_command!(
    WireFormatInfo,
    BrokerInfo,
    ConnectionInfo,
    SessionInfo,
    ConsumerInfo,
    ProducerInfo,
    TransactionInfo,
    DestinationInfo,
    RemoveSubscriptionInfo,
    KeepAliveInfo,
    ShutdownInfo,
    RemoveInfo,
    ControlCommand,
    FlushCommand,
    ConnectionError,
    ConsumerControl,
    ConnectionControl,
    ProducerAck,
    MessagePull,
    MessageDispatch,
    MessageAck,
    Response,
    ExceptionResponse,
    DataResponse,
    DataArrayResponse,
    IntegerResponse
);

impl From<Message> for Command {
    fn from(m: Message) -> Command {
        Command::Message(Box::new(m))
    }
}
