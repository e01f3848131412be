//! Native half of the mqbridge JMS provider, loaded by `java-shim` over JNI
//! (`io.mqbridge.jms.Native`). This crate owns the JNI edge: every `Java_io_mqbridge_jms_Native_*`
//! entry point, the conversion of arguments and results, and the mapping of Rust errors and
//! panics to Java exceptions. The objects behind handles live in [`client`]; the byte[]
//! message record crossing JNI is [`codec`]. It is the only crate of the workspace where
//! `unsafe` is allowed (`#[unsafe(no_mangle)]` entry points); it has no `unsafe` blocks.
//!
//! Native API (all `static native` on `io.mqbridge.jms.Native`):
//!
//! | Java | does |
//! |---|---|
//! | `long connect(String uri, long connectTimeoutMs)` | `mqbridge://user:pass@host:port/vhost` → AMQP 0-9-1 connection (via `mqbridge::amqp::connector`); `mqbridge:embedded?config=PATH` starts/reuses the in-process broker and connects to it |
//! | `long createSession(long connection)` | session handle (AUTO_ACKNOWLEDGE) |
//! | `long createProducer(long session)` | producer on its own confirm channel |
//! | `void createTemporaryQueue(long session, String name)` / `void deleteQueue(long session, String name)` | temporary queue: exclusive to the connection / deleted |
//! | `void send(long producer, byte[] record)` | `mapping::openwire::to_message`, publish, wait for the confirm (at most 30 s): `publish` + `awaitConfirm`, which the Java producer calls itself (delay, timeout, async) |
//! | `long createConsumer(long session, int destKind, String name, int prefetch)` | queue consumer (declared durable) or non-durable topic subscriber |
//! | `long createDurableConsumer(long session, String clientId, String name, String topic, int prefetch)` | durable queue `C:S` bound to `amq.topic` (the OpenWire listener's naming) |
//! | `void unsubscribe(long session, String clientId, String name)` | deletes the `C:S` queue; active → `IllegalStateException`, missing → `InvalidDestinationException` |
//! | `long createFilteredConsumer(long session, int destKind, String name, String selector, boolean noLocal, int prefetch)` | consumer with a selector (null: none) / noLocal ([`filter`]): topics filter client-side, queues via mqbridge's `x-selector` (other brokers: `JMSException`); invalid selector → `InvalidSelectorException` |
//! | `long createSubscription(long session, int kind, String clientId, String name, String topic, String selector, boolean noLocal, int prefetch)` | named topic subscription, kind 1 durable / 2 shared durable / 3 shared non-durable, queue `C:S` (`:S` without client ID) |
//! | `void shutdownEmbedded()` / `int embeddedBrokers()` | stops every `mqbridge:embedded` broker (JVM exit) / how many run ([`embedded`]) |
//! | `byte[] receive(long consumer, long timeoutMs)` | `mapping::openwire::from_message` record, or null (timeout/closed); <0 waits forever, 0 no wait |
//! | `void ack(long consumer, long deliveryTag)` | `basic.ack` |
//! | `void ackThrough(long consumer, long deliveryTag)` | `basic.ack` multiple (CLIENT_ACKNOWLEDGE) |
//! | `void nack(long consumer, long deliveryTag, boolean requeue)` | `basic.nack` (a MessageListener threw) |
//! | `void close(long handle)` | closes any handle; idempotent |
//! | `String awaitConnectionLoss(long connection)` | blocks until the connection is lost (the reason) or closed (null); for ExceptionListener |
//! | `long createTransactedSession(long connection)` | transacted session: one channel in `tx.select` mode shared by its producers and consumers |
//! | `void commit(long session)` / `void rollback(long session)` | `tx.commit` (broker refusal or a closed channel → `TransactionRolledBackException`) / `tx.rollback`, then the consumed messages are nacked with requeue (redelivered) |
//! | `long publish(long producer, byte[] record, long deliveryDelayMs, long deliveryTime, long timeoutMs)` | publish without waiting for the confirm; returns a token for `awaitConfirm` (0: nothing to wait for, e.g. in a transaction); a delay goes through the queue `mqbridge.delay.<ms>.<queue|topic>.<name>` (TTL + dead-lettering) |
//! | `void awaitConfirm(long producer, long token, long timeoutMs, long confirmTimeoutMs)` | waits (at most `timeoutMs`, what is left of the send's `confirmTimeoutMs`) for that send's confirm; a nack or no confirm in time → `JMSException` naming `confirmTimeoutMs` |
//! | `long createBrowser(long session, String queue, String selector)` | QueueBrowser: `basic.get` without ack on its own channel (closing it requeues); selector (nullable) evaluated by `mqbridge::selector` |
//! | `byte[] browseNext(long browser)` | next (matching) message record, null when none is left |
//! | `int liveHandles()` | handles not yet closed (tests check for leaks) |
//! | `void panicForTest(String message)` | panics in Rust (tests check the panic becomes a Java exception) |
//!
//! Errors: every entry point runs inside `EnvUnowned::with_env` (which catches panics) and is
//! resolved with [`ThrowJms`]: a [`client::ShimError`] is thrown as its JMSException subclass
//! (`JMSSecurityException` for a refused login, `IllegalStateException` for a closed
//! handle, `InvalidDestinationException`, `InvalidSelectorException`, else `JMSException` with the cause text), a panic
//! as `JMSException("native panic: …")`. Nothing unwinds into the JVM. The exception object
//! is made by Java, `static Throwable Native.failure(String jniClassName, String message)`
//! (see `throw` below), so that the jakarta jar (javax.jms relocated) throws jakarta.jms classes.

pub mod client;
pub mod codec;
pub mod embedded;
pub mod filter;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jni::errors::ErrorPolicy;
use jni::objects::{JByteArray, JClass, JString, JThrowable, JValue};
use jni::strings::JNIString;
use jni::sys::{jint, jlong};
use jni::{jni_sig, jni_str, Env, EnvUnowned};

use client::{JavaClass, ShimError};

/// Wall clock in ms since the epoch (JMS timestamps; the mapping takes the clock as input).
fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// The error policy of every entry point (module doc).
pub struct ThrowJms;

/// Throws `class(message)`. The exception object is made by Java (`Native.failure`), not
/// by name here: the jakarta artifact relocates `javax.jms` to `jakarta.jms`, so only the Java
/// side knows which package its JMS exceptions live in. If that call fails, a
/// `java.lang.RuntimeException` with the message is thrown instead (never nothing).
fn throw(env: &mut Env<'_>, class: JavaClass, message: &str) -> jni::errors::Result<()> {
    let thrown = match failure(env, class, message) {
        Ok(throwable) => env.throw(&throwable),
        Err(e) => {
            if env.exception_check() {
                env.exception_clear();
            }
            env.throw_new(
                jni_str!("java/lang/RuntimeException"),
                JNIString::from(format!("{message} (Native.failure failed: {e})")),
            )
        }
    };
    // `throw`/`throw_new` report the now-pending exception as Err(JavaException): that is the
    // intended outcome here, so only other failures are errors.
    match thrown {
        Ok(()) | Err(jni::errors::Error::JavaException) => Ok(()),
        Err(e) => Err(e),
    }
}

/// `io.mqbridge.jms.Native.failure(class.name(), message)`: the Throwable to throw.
fn failure<'local>(
    env: &mut Env<'local>,
    class: JavaClass,
    message: &str,
) -> jni::errors::Result<JThrowable<'local>> {
    let name = env.new_string(class.name())?;
    let text = env.new_string(message)?;
    let obj = env
        .call_static_method(
            jni_str!("io/mqbridge/jms/Native"),
            jni_str!("failure"),
            jni_sig!("(Ljava/lang/String;Ljava/lang/String;)Ljava/lang/Throwable;"),
            &[JValue::from(&name), JValue::from(&text)],
        )?
        .l()?;
    if obj.is_null() {
        return Err(jni::errors::Error::NullPtr("Native.failure returned null"));
    }
    env.cast_local::<JThrowable>(obj)
}

impl<T: Default> ErrorPolicy<T, ShimError> for ThrowJms {
    type Captures<'unowned_env_local: 'native_method, 'native_method> = ();

    fn on_error<'unowned_env_local: 'native_method, 'native_method>(
        env: &mut Env<'unowned_env_local>,
        _cap: &mut (),
        err: ShimError,
    ) -> jni::errors::Result<T> {
        if env.exception_check() {
            // A Java exception raised by a JNI call is already on its way.
            return Ok(T::default());
        }
        match err {
            ShimError::Throw(class, message) => throw(env, class, &message)?,
            ShimError::Jni(e) => throw(env, JavaClass::Jms, &format!("JNI error: {e}"))?,
        }
        Ok(T::default())
    }

    fn on_panic<'unowned_env_local: 'native_method, 'native_method>(
        env: &mut Env<'unowned_env_local>,
        _cap: &mut (),
        payload: Box<dyn std::any::Any + Send + 'static>,
    ) -> jni::errors::Result<T> {
        let text = if let Some(s) = payload.downcast_ref::<&'static str>() {
            (*s).to_string()
        } else if let Some(s) = payload.downcast_ref::<String>() {
            s.clone()
        } else {
            "non-string panic payload".to_string()
        };
        // Dropping a payload can itself panic; leak it instead (a panic is already a bug).
        std::mem::forget(payload);
        if env.exception_check() {
            env.exception_clear();
        }
        throw(env, JavaClass::Jms, &format!("native panic: {text}"))?;
        Ok(T::default())
    }
}

fn string(env: &mut Env<'_>, s: &JString<'_>, what: &str) -> Result<String, ShimError> {
    if s.is_null() {
        return Err(client::jms(format!("{what} is null")));
    }
    Ok(s.try_to_string(env)?)
}

fn millis(ms: jlong) -> Duration {
    Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_mqbridge_jms_Native_connect<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    uri: JString<'local>,
    connect_timeout_ms: jlong,
) -> jlong {
    env.with_env(|env| -> Result<jlong, ShimError> {
        let uri = string(env, &uri, "uri")?;
        client::connect(&uri, millis(connect_timeout_ms))
    })
    .resolve::<ThrowJms>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_mqbridge_jms_Native_createSession<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    connection: jlong,
) -> jlong {
    env.with_env(|_env| -> Result<jlong, ShimError> { client::create_session(connection) })
        .resolve::<ThrowJms>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_mqbridge_jms_Native_createProducer<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    session: jlong,
) -> jlong {
    env.with_env(|_env| -> Result<jlong, ShimError> { client::create_producer(session) })
        .resolve::<ThrowJms>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_mqbridge_jms_Native_createTemporaryQueue<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    session: jlong,
    name: JString<'local>,
) {
    env.with_env(|env| -> Result<(), ShimError> {
        let name = string(env, &name, "queue name")?;
        client::create_temporary_queue(session, &name)
    })
    .resolve::<ThrowJms>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_mqbridge_jms_Native_deleteQueue<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    session: jlong,
    name: JString<'local>,
) {
    env.with_env(|env| -> Result<(), ShimError> {
        let name = string(env, &name, "queue name")?;
        client::delete_queue(session, &name)
    })
    .resolve::<ThrowJms>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_mqbridge_jms_Native_send<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    producer: jlong,
    record: JByteArray<'local>,
) {
    env.with_env(|env| -> Result<(), ShimError> {
        if record.is_null() {
            return Err(client::jms("message record is null"));
        }
        let bytes = env.convert_byte_array(&record)?;
        client::send(producer, &bytes, now_ms())
    })
    .resolve::<ThrowJms>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_mqbridge_jms_Native_createConsumer<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    session: jlong,
    dest_kind: jint,
    name: JString<'local>,
    prefetch: jint,
) -> jlong {
    env.with_env(|env| -> Result<jlong, ShimError> {
        let name = string(env, &name, "destination name")?;
        let kind = u8::try_from(dest_kind)
            .ok()
            .and_then(codec::dest_kind)
            .ok_or_else(|| client::jms(format!("invalid destination kind {dest_kind}")))?;
        let prefetch = u16::try_from(prefetch)
            .map_err(|_| client::jms(format!("invalid prefetch {prefetch}")))?;
        client::create_consumer(session, kind, &name, prefetch)
    })
    .resolve::<ThrowJms>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_mqbridge_jms_Native_createDurableConsumer<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    session: jlong,
    client_id: JString<'local>,
    name: JString<'local>,
    topic: JString<'local>,
    prefetch: jint,
) -> jlong {
    env.with_env(|env| -> Result<jlong, ShimError> {
        let client_id = string(env, &client_id, "client ID")?;
        let name = string(env, &name, "subscription name")?;
        let topic = string(env, &topic, "topic")?;
        let prefetch = u16::try_from(prefetch)
            .map_err(|_| client::jms(format!("invalid prefetch {prefetch}")))?;
        client::create_durable_consumer(session, &client_id, &name, &topic, prefetch)
    })
    .resolve::<ThrowJms>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_mqbridge_jms_Native_unsubscribe<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    session: jlong,
    client_id: JString<'local>,
    name: JString<'local>,
) {
    env.with_env(|env| -> Result<(), ShimError> {
        let client_id = string(env, &client_id, "client ID")?;
        let name = string(env, &name, "subscription name")?;
        client::unsubscribe(session, &client_id, &name)
    })
    .resolve::<ThrowJms>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_mqbridge_jms_Native_receive<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    consumer: jlong,
    timeout_ms: jlong,
) -> JByteArray<'local> {
    env.with_env(|env| -> Result<JByteArray<'local>, ShimError> {
        match client::receive(consumer, timeout_ms, now_ms)? {
            Some(record) => Ok(env.byte_array_from_slice(&record)?),
            None => Ok(JByteArray::default()),
        }
    })
    .resolve::<ThrowJms>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_mqbridge_jms_Native_ack<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    consumer: jlong,
    tag: jlong,
) {
    env.with_env(|_env| -> Result<(), ShimError> { client::ack(consumer, tag) })
        .resolve::<ThrowJms>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_mqbridge_jms_Native_ackThrough<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    consumer: jlong,
    tag: jlong,
) {
    env.with_env(|_env| -> Result<(), ShimError> { client::ack_through(consumer, tag) })
        .resolve::<ThrowJms>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_mqbridge_jms_Native_nack<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    consumer: jlong,
    tag: jlong,
    requeue: bool,
) {
    env.with_env(|_env| -> Result<(), ShimError> { client::nack(consumer, tag, requeue) })
        .resolve::<ThrowJms>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_mqbridge_jms_Native_close<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
) {
    env.with_env(|_env| -> Result<(), ShimError> { client::close(handle) })
        .resolve::<ThrowJms>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_mqbridge_jms_Native_awaitConnectionLoss<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    connection: jlong,
) -> JString<'local> {
    env.with_env(|env| -> Result<JString<'local>, ShimError> {
        match client::await_connection_loss(connection)? {
            Some(reason) => Ok(env.new_string(reason)?),
            None => Ok(JString::default()),
        }
    })
    .resolve::<ThrowJms>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_mqbridge_jms_Native_liveHandles<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
) -> jint {
    env.with_env(|_env| -> Result<jint, ShimError> {
        Ok(jint::try_from(client::live_handles()).unwrap_or(jint::MAX))
    })
    .resolve::<ThrowJms>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_mqbridge_jms_Native_panicForTest<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    message: JString<'local>,
) {
    env.with_env(|env| -> Result<(), ShimError> {
        let message = string(env, &message, "message")?;
        // Deliberate: proves a Rust panic surfaces as a Java exception (module doc).
        panic!("{message}");
    })
    .resolve::<ThrowJms>()
}

// --- selectors, noLocal, shared subscriptions, embedded broker (filter.rs, embedded.rs) ---

fn optional_string(env: &mut Env<'_>, s: &JString<'_>) -> Result<Option<String>, ShimError> {
    if s.is_null() {
        return Ok(None);
    }
    Ok(Some(s.try_to_string(env)?))
}

fn prefetch_of(prefetch: jint) -> Result<u16, ShimError> {
    u16::try_from(prefetch).map_err(|_| client::jms(format!("invalid prefetch {prefetch}")))
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_mqbridge_jms_Native_createFilteredConsumer<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    session: jlong,
    dest_kind: jint,
    name: JString<'local>,
    selector: JString<'local>,
    no_local: bool,
    prefetch: jint,
) -> jlong {
    env.with_env(|env| -> Result<jlong, ShimError> {
        let name = string(env, &name, "destination name")?;
        let selector = optional_string(env, &selector)?;
        let kind = u8::try_from(dest_kind)
            .ok()
            .and_then(codec::dest_kind)
            .ok_or_else(|| client::jms(format!("invalid destination kind {dest_kind}")))?;
        client::create_filtered_consumer(
            session,
            kind,
            &name,
            selector.as_deref(),
            no_local,
            prefetch_of(prefetch)?,
        )
    })
    .resolve::<ThrowJms>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_mqbridge_jms_Native_createSubscription<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    session: jlong,
    kind: jint,
    client_id: JString<'local>,
    name: JString<'local>,
    topic: JString<'local>,
    selector: JString<'local>,
    no_local: bool,
    prefetch: jint,
) -> jlong {
    env.with_env(|env| -> Result<jlong, ShimError> {
        let kind = match kind {
            1 => client::SubscriptionKind::Durable,
            2 => client::SubscriptionKind::SharedDurable,
            3 => client::SubscriptionKind::Shared,
            other => return Err(client::jms(format!("invalid subscription kind {other}"))),
        };
        // No client ID (allowed for shared subscriptions) names the queue `:S`.
        let client_id = optional_string(env, &client_id)?.unwrap_or_default();
        let name = string(env, &name, "subscription name")?;
        let topic = string(env, &topic, "topic")?;
        let selector = optional_string(env, &selector)?;
        client::create_subscription(
            session,
            kind,
            &client_id,
            &name,
            &topic,
            selector.as_deref(),
            no_local,
            prefetch_of(prefetch)?,
        )
    })
    .resolve::<ThrowJms>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_mqbridge_jms_Native_shutdownEmbedded<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
) {
    env.with_env(|_env| -> Result<(), ShimError> { embedded::shutdown_all() })
        .resolve::<ThrowJms>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_mqbridge_jms_Native_embeddedBrokers<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
) -> jint {
    env.with_env(|_env| -> Result<jint, ShimError> {
        Ok(jint::try_from(embedded::running()?).unwrap_or(jint::MAX))
    })
    .resolve::<ThrowJms>()
}

// --- transacted sessions, sends with a deadline / asynchronous completion, delivery delay,
// --- queue browsers

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_mqbridge_jms_Native_createTransactedSession<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    connection: jlong,
) -> jlong {
    env.with_env(|_env| -> Result<jlong, ShimError> {
        client::create_transacted_session(connection)
    })
    .resolve::<ThrowJms>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_mqbridge_jms_Native_commit<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    session: jlong,
) {
    env.with_env(|_env| -> Result<(), ShimError> { client::commit(session) })
        .resolve::<ThrowJms>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_mqbridge_jms_Native_rollback<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    session: jlong,
) {
    env.with_env(|_env| -> Result<(), ShimError> { client::rollback(session) })
        .resolve::<ThrowJms>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_mqbridge_jms_Native_publish<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    producer: jlong,
    record: JByteArray<'local>,
    delivery_delay_ms: jlong,
    delivery_time: jlong,
    timeout_ms: jlong,
) -> jlong {
    env.with_env(|env| -> Result<jlong, ShimError> {
        if record.is_null() {
            return Err(client::jms("message record is null"));
        }
        let delay = u64::try_from(delivery_delay_ms)
            .map_err(|_| client::jms(format!("invalid delivery delay {delivery_delay_ms}")))?;
        let bytes = env.convert_byte_array(&record)?;
        client::publish(
            producer,
            &bytes,
            delay,
            delivery_time,
            millis(timeout_ms),
            now_ms(),
        )
    })
    .resolve::<ThrowJms>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_mqbridge_jms_Native_awaitConfirm<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    producer: jlong,
    token: jlong,
    timeout_ms: jlong,
    confirm_timeout_ms: jlong,
) {
    env.with_env(|_env| -> Result<(), ShimError> {
        client::await_confirm(
            producer,
            token,
            millis(timeout_ms),
            millis(confirm_timeout_ms),
        )
    })
    .resolve::<ThrowJms>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_mqbridge_jms_Native_createBrowser<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    session: jlong,
    queue: JString<'local>,
    selector: JString<'local>,
) -> jlong {
    env.with_env(|env| -> Result<jlong, ShimError> {
        let queue = string(env, &queue, "queue name")?;
        let selector = if selector.is_null() {
            None
        } else {
            Some(selector.try_to_string(env)?)
        };
        client::create_browser(session, &queue, selector.as_deref())
    })
    .resolve::<ThrowJms>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_mqbridge_jms_Native_browseNext<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    browser: jlong,
) -> JByteArray<'local> {
    env.with_env(|env| -> Result<JByteArray<'local>, ShimError> {
        match client::browse_next(browser, now_ms())? {
            Some(record) => Ok(env.byte_array_from_slice(&record)?),
            None => Ok(JByteArray::default()),
        }
    })
    .resolve::<ThrowJms>()
}
