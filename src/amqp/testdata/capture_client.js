const amqp = require('/work/main/tests/interop/node/node_modules/amqplib');
(async () => {
  const conn = await amqp.connect('amqp://guest:guest@127.0.0.1:5699/');
  const ch = await conn.createConfirmChannel();
  const q = 'capture-q-' + process.pid;
  await ch.assertQueue(q, {durable: false, autoDelete: true});
  const body = Buffer.alloc(200000, 0x61);
  await new Promise((res, rej) => ch.publish('', q, body, {contentType: 'text/plain', deliveryMode: 2, headers: {JMSType: 'order', n: 7}}, (e) => e ? rej(e) : res()));
  await new Promise((res) => ch.consume(q, (m) => { ch.ack(m); res(); }, {consumerTag: 'cap'}));
  await ch.close();
  await conn.close();
})().catch(e => { console.error(e); process.exit(1); });
