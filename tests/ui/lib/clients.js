// Real clients for the traffic the UI must show: amqplib (AMQP 0-9-1, publisher confirms),
// a raw STOMP 1.2 session over a net.Socket, and the management API itself over fetch (to
// check what the UI did, not to drive it).
'use strict';

const net = require('node:net');
const amqp = require('amqplib');

async function amqpConnect(url) {
  const conn = await amqp.connect(url);
  conn.on('error', () => {}); // failures surface through the awaited calls
  const ch = await conn.createConfirmChannel();
  return { conn, ch };
}

// Publishes `count` messages to `queue` through the default exchange and waits for every confirm.
async function publish(ch, queue, count, make) {
  for (let i = 0; i < count; i++) {
    const m = make ? make(i) : { body: `message ${i}`, options: {} };
    ch.sendToQueue(queue, Buffer.from(m.body), m.options || {});
  }
  await ch.waitForConfirms();
}

// Keeps publishing to `queue` (one confirmed message every `everyMs`) until stopped, so the
// server's rates stay above zero while the browser looks at them.
function trickle(ch, queue, everyMs) {
  let stopped = false;
  let sent = 0;
  const done = (async () => {
    while (!stopped) {
      ch.sendToQueue(queue, Buffer.from(`trickle ${sent}`));
      await ch.waitForConfirms();
      sent += 1;
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await done;
      return sent;
    },
  };
}

// A STOMP 1.2 connection that stays open: CONNECT, wait for CONNECTED, optionally SEND.
async function stompConnect({ host, port }, login, passcode) {
  const sock = net.connect({ host, port });
  sock.setNoDelay(true);
  let buf = Buffer.alloc(0);
  const waiters = [];
  sock.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    for (;;) {
      while (buf.length && (buf[0] === 0x0a || buf[0] === 0x0d)) buf = buf.subarray(1); // heart-beats
      const nul = buf.indexOf(0);
      if (nul < 0) break;
      const frame = buf.subarray(0, nul).toString('utf8');
      buf = buf.subarray(nul + 1);
      const w = waiters.shift();
      if (w) w.resolve(frame);
    }
  });
  const fail = (e) => { for (const w of waiters.splice(0)) w.reject(e); };
  sock.on('error', fail);
  sock.on('close', () => fail(new Error('STOMP connection closed')));
  const nextFrame = (ms) => new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('no STOMP frame within ' + ms + ' ms')), ms);
    waiters.push({ resolve: (f) => { clearTimeout(t); resolve(f); }, reject: (e) => { clearTimeout(t); reject(e); } });
  });
  await new Promise((resolve, reject) => { sock.once('connect', resolve); sock.once('error', reject); });
  sock.write(`CONNECT\naccept-version:1.2\nhost:/\nlogin:${login}\npasscode:${passcode}\nheart-beat:0,0\n\n\0`);
  const connected = await nextFrame(10000);
  if (!connected.startsWith('CONNECTED')) throw new Error('STOMP CONNECT refused: ' + connected);
  let receipt = 0;
  return {
    // SEND with a receipt: resolves once the broker has taken the message.
    async send(destination, body) {
      receipt += 1;
      const len = Buffer.byteLength(body);
      sock.write(`SEND\ndestination:${destination}\ncontent-type:text/plain\ncontent-length:${len}\nreceipt:r${receipt}\n\n${body}\0`);
      const f = await nextFrame(10000);
      if (!f.startsWith('RECEIPT')) throw new Error('STOMP SEND not confirmed: ' + f);
    },
    close() {
      sock.end('DISCONNECT\n\n\0');
      sock.destroy();
    },
  };
}

function api(bridge) {
  const auth = 'Basic ' + Buffer.from(`${bridge.admin.user}:${bridge.admin.password}`).toString('base64');
  return async (method, path, body) => {
    const res = await fetch(bridge.httpUrl + path, {
      method,
      headers: Object.assign({ Authorization: auth }, body === undefined ? {} : { 'Content-Type': 'application/json' }),
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
}

module.exports = { amqpConnect, publish, trickle, stompConnect, api };
