// mqbridge interop tests with amqplib. Broker from AMQP_URL. Run: node --test
'use strict';

const { test, before } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const amqp = require('amqplib');

const URL = process.env.AMQP_URL;
const uniq = (label) => `it.node.${crypto.randomBytes(5).toString('hex')}.${label}`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

before(() => {
  assert.ok(URL, 'AMQP_URL must be set (amqp://guest:guest@127.0.0.1:PORT/%2f)');
});

async function withConn(fn) {
  const conn = await amqp.connect(URL);
  conn.on('error', () => {}); // surfaced through the promises below
  try {
    return await fn(conn);
  } finally {
    try { await conn.close(); } catch (_) { /* already closed */ }
  }
}

async function getAll(ch, q) {
  const out = [];
  for (;;) {
    const m = await ch.get(q, { noAck: true });
    if (m === false) return out;
    out.push(m);
  }
}

test('connect and open a channel, server properties present', async () => {
  await withConn(async (conn) => {
    const props = conn.connection.serverProperties;
    assert.equal(typeof props, 'object');
    assert.ok(props.capabilities, 'server advertises capabilities');
    assert.equal(props.capabilities.publisher_confirms, true);
    assert.equal(props.capabilities.consumer_cancel_notify, true);
    assert.equal(props.capabilities['basic.nack'], true);
    assert.equal(props.capabilities.exchange_exchange_bindings, true);
    assert.equal(props.capabilities.per_consumer_qos, true);
    assert.equal(props.capabilities.authentication_failure_close, true);
    const ch = await conn.createChannel();
    const ok = await ch.checkExchange('amq.topic');
    assert.ok(ok);
    await ch.close();
  });
});

test('confirm channel: publish + waitForConfirms, every callback acked', async () => {
  await withConn(async (conn) => {
    const ch = await conn.createConfirmChannel();
    const q = uniq('confirm');
    await ch.assertQueue(q, { durable: true });
    const acks = [];
    for (let i = 0; i < 100; i++) {
      ch.sendToQueue(q, Buffer.from(`m${i}`), { persistent: true }, (err) => acks.push(err));
    }
    await ch.waitForConfirms();
    assert.equal(acks.length, 100);
    assert.ok(acks.every((e) => e === null || e === undefined), 'no nack');
    let count = 0;
    for (let i = 0; i < 50 && count !== 100; i++) {
      count = (await ch.checkQueue(q)).messageCount;
      if (count !== 100) await sleep(50);
    }
    assert.equal(count, 100);
    await ch.deleteQueue(q);
  });
});

test('confirm channel: reject-publish overflow is nacked', async () => {
  await withConn(async (conn) => {
    const ch = await conn.createConfirmChannel();
    const q = uniq('overflow');
    await ch.assertQueue(q, { arguments: { 'x-max-length': 1, 'x-overflow': 'reject-publish' } });
    const results = [];
    ch.sendToQueue(q, Buffer.from('fits'), {}, (err) => results.push(err ? 'nack' : 'ack'));
    ch.sendToQueue(q, Buffer.from('overflows'), {}, (err) => results.push(err ? 'nack' : 'ack'));
    await assert.rejects(ch.waitForConfirms());
    assert.deepEqual(results, ['ack', 'nack']);
    await ch.deleteQueue(q);
  });
});

test('consume + ack, in order, with properties', async () => {
  await withConn(async (conn) => {
    const ch = await conn.createChannel();
    const q = uniq('consume');
    await ch.assertQueue(q, { exclusive: true });
    const got = [];
    const done = new Promise((resolve) => {
      ch.consume(q, (msg) => {
        got.push(msg);
        ch.ack(msg);
        if (got.length === 20) resolve();
      });
    });
    for (let i = 0; i < 20; i++) {
      ch.sendToQueue(q, Buffer.from(`n${i}`), {
        contentType: 'text/plain', correlationId: `c${i}`, headers: { i, s: 'x' }, priority: 2,
      });
    }
    await done;
    assert.deepEqual(got.map((m) => m.content.toString()), [...Array(20).keys()].map((i) => `n${i}`));
    assert.equal(got[7].properties.contentType, 'text/plain');
    assert.equal(got[7].properties.correlationId, 'c7');
    assert.deepEqual(got[7].properties.headers, { i: 7, s: 'x' });
    assert.equal(got[7].properties.priority, 2);
    assert.equal(got[7].fields.redelivered, false);
    assert.equal(got[7].fields.routingKey, q);
    await sleep(100);
    assert.equal((await ch.checkQueue(q)).messageCount, 0);
  });
});

test('topic routing with * and #', async () => {
  await withConn(async (conn) => {
    const ch = await conn.createChannel();
    const x = uniq('topic');
    await ch.assertExchange(x, 'topic', { autoDelete: false });
    const qStar = (await ch.assertQueue('', { exclusive: true })).queue;
    const qHash = (await ch.assertQueue('', { exclusive: true })).queue;
    await ch.bindQueue(qStar, x, 'log.*.error');
    await ch.bindQueue(qHash, x, 'log.#');
    for (const key of ['log.app.error', 'log.app.sub.error', 'log', 'other.app.error']) {
      ch.publish(x, key, Buffer.from(key));
    }
    await sleep(200);
    assert.deepEqual((await getAll(ch, qStar)).map((m) => m.content.toString()), ['log.app.error']);
    assert.deepEqual((await getAll(ch, qHash)).map((m) => m.content.toString()),
      ['log.app.error', 'log.app.sub.error', 'log']);
    await ch.deleteExchange(x);
  });
});

test('basic.get: message then get-empty', async () => {
  await withConn(async (conn) => {
    const ch = await conn.createChannel();
    const q = (await ch.assertQueue('', { exclusive: true })).queue;
    assert.equal(await ch.get(q), false);
    ch.sendToQueue(q, Buffer.from('one'));
    ch.sendToQueue(q, Buffer.from('two'));
    await sleep(100);
    const m = await ch.get(q, { noAck: true });
    assert.equal(m.content.toString(), 'one');
    assert.equal(m.fields.messageCount, 1);
    const m2 = await ch.get(q, { noAck: true });
    assert.equal(m2.content.toString(), 'two');
    assert.equal(await ch.get(q), false);
  });
});

test('nack with requeue redelivers with the redelivered flag', async () => {
  await withConn(async (conn) => {
    const ch = await conn.createChannel();
    const q = (await ch.assertQueue('', { exclusive: true })).queue;
    ch.sendToQueue(q, Buffer.from('again'));
    await sleep(100);
    const first = await ch.get(q);
    assert.equal(first.fields.redelivered, false);
    ch.nack(first, false, true);
    const second = await ch.get(q);
    assert.ok(second, 'requeued message is back');
    assert.equal(second.content.toString(), 'again');
    assert.equal(second.fields.redelivered, true);
    ch.nack(second, false, false);
    await sleep(100);
    assert.equal(await ch.get(q), false, 'nack without requeue drops it');
  });
});

test('404 on a missing queue closes the channel, connection stays usable', async () => {
  await withConn(async (conn) => {
    const ch = await conn.createChannel();
    const channelErrors = [];
    ch.on('error', (e) => channelErrors.push(e));
    const closed = new Promise((resolve) => ch.on('close', resolve));
    const q = uniq('missing');
    await assert.rejects(ch.checkQueue(q), (err) => {
      assert.equal(err.code, 404);
      assert.match(err.message, /NOT_FOUND - no queue/);
      return true;
    });
    await closed;
    assert.equal(channelErrors.length, 1);
    assert.equal(channelErrors[0].code, 404);
    const ch2 = await conn.createChannel();
    const ok = await ch2.assertQueue('', { exclusive: true });
    assert.match(ok.queue, /^amq\.gen-/);
  });
});
