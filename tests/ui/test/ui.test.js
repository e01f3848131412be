// Browser tests of the mqbridge web UI: the real release binary, real AMQP (amqplib) and
// STOMP (raw socket) traffic, headless Chromium. Run from tests/ui: `npm ci && node --test`
// (MQBRIDGE_BIN = the binary, default ../../target/release/mqbridge).
'use strict';

const { describe, test: nodeTest, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startBridge } = require('../lib/bridge');
const { launch, newPage } = require('../lib/browser');
const { amqpConnect, publish, trickle, stompConnect, api } = require('../lib/clients');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Retries `check` until it stops throwing or `ms` pass; the UI refreshes every few seconds.
async function eventually(check, ms = 15000) {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await check();
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await sleep(250);
    }
  }
}

async function value(locator) {
  const v = await locator.getAttribute('data-value');
  return v === null || v === '' ? NaN : Number(v);
}

// A failing test prints the end of the bridge's log (in `after`), which usually says why.
let failed = false;
function test(name, fn) {
  return nodeTest(name, async (t) => {
    try {
      await fn(t);
    } catch (e) {
      failed = true;
      throw e;
    }
  });
}

const queueRow = (page, name) => page.locator(`[data-testid="queue-row"][data-name="${name}"]`);

describe('mqbridge web UI', () => {
  let bridge;
  let browser;
  let amqpc;
  let call;
  let page; // logged in, shared by the tests after the login test

  before(async () => {
    bridge = await startBridge();
    call = api(bridge);
    browser = await launch();
    amqpc = await amqpConnect(bridge.amqpUrl);
  });

  after(async () => {
    if (amqpc) await amqpc.conn.close().catch(() => {});
    if (browser) await browser.close();
    if (bridge) {
      if (failed) console.error('---- mqbridge log (last 80 lines) ----\n' + bridge.log().split('\n').slice(-80).join('\n'));
      const { early, exit } = await bridge.stop();
      assert.equal(early, null, `mqbridge exited during the tests: ${JSON.stringify(early)}`);
      assert.deepEqual(exit, { code: 0, signal: null }, 'SIGTERM stops mqbridge cleanly');
    }
  });

  async function login(p, user, password) {
    await p.goto(bridge.httpUrl + '/');
    await p.getByTestId('login-username').fill(user);
    await p.getByTestId('login-password').fill(password);
    await p.getByTestId('login-submit').click();
  }

  test('the binary serves the page and its assets', async () => {
    const res = await fetch(bridge.httpUrl + '/');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /^text\/html/);
    const html = await res.text();
    const js = html.match(/src="(\/ui\/app\.js\?v=[0-9a-f]+)"/);
    const css = html.match(/href="(\/ui\/app\.css\?v=[0-9a-f]+)"/);
    assert.ok(js && css, 'the page references its versioned assets');
    const jsRes = await fetch(bridge.httpUrl + js[1]);
    assert.equal(jsRes.status, 200);
    assert.match(jsRes.headers.get('content-type'), /^text\/javascript/);
    assert.match(await jsRes.text(), /data-testid/);
    const cssRes = await fetch(bridge.httpUrl + css[1]);
    assert.equal(cssRes.status, 200);
    assert.match(cssRes.headers.get('content-type'), /^text\/css/);
  });

  test('a wrong password shows the error and stays on the login', async () => {
    const p = await newPage(browser.context);
    await login(p, bridge.admin.user, 'not-the-password');
    const error = p.getByTestId('login-error');
    await error.waitFor({ state: 'visible' });
    assert.match(await error.textContent(), /Login failed/);
    assert.equal(await p.getByTestId('topbar').isVisible(), false);
    assert.equal(await p.evaluate(() => sessionStorage.getItem('mqbridge.auth')), null);
    assert.deepEqual(p.errors, []);
    await p.close();
  });

  test('logs in and shows the user and the product', async () => {
    page = await newPage(browser.context);
    await login(page, bridge.admin.user, bridge.admin.password);
    await page.getByTestId('overview-publish-rate').waitFor();
    assert.equal(await page.getByTestId('whoami-name').textContent(), bridge.admin.user);
    assert.match(await page.getByTestId('whoami-tags').textContent(), /administrator/);
    await eventually(async () => assert.match(await page.getByTestId('product').textContent(), /mqbridge/));
    // every API call carries the Basic credentials the login stored
    const stored = await page.evaluate(() => sessionStorage.getItem('mqbridge.auth'));
    assert.equal(Buffer.from(stored, 'base64').toString(), `${bridge.admin.user}:${bridge.admin.password}`);
    assert.deepEqual(page.errors, []);
  });

  test('overview and queues show live numbers after AMQP and STOMP traffic', async () => {
    const { ch } = amqpc;
    await ch.assertQueue('ui-depth', { durable: false });
    await ch.assertQueue('ui-live', { durable: false });
    await publish(ch, 'ui-depth', 25);
    const stomp = await stompConnect(bridge.stomp, 'guest', 'guest');
    await stomp.send('/amq/queue/ui-live', 'from stomp'); // an existing queue, not declared
    const flow = trickle(ch, 'ui-live', 50);
    try {
      await page.getByTestId('nav-overview').click();
      await eventually(async () => {
        assert.ok(await value(page.getByTestId('overview-publish-rate')) > 0, 'publish rate > 0');
        assert.ok(await value(page.getByTestId('overview-messages')) >= 26, 'queued messages');
        assert.ok(await value(page.getByTestId('overview-messages-ready')) >= 26, 'ready messages');
        assert.ok(await value(page.getByTestId('overview-protocol-stomp')) >= 1, 'a stomp connection');
        assert.ok(await value(page.getByTestId('overview-protocol-amqp')) >= 1, 'an amqp connection');
        assert.ok(await value(page.getByTestId('overview-queues')) >= 3, 'queue total');
        assert.ok(await value(page.getByTestId('overview-publish-total')) >= 26, 'publish total');
      }, 20000);
      // the numbers move on their own (auto-refresh), without any click
      const before = await value(page.getByTestId('overview-publish-total'));
      await eventually(async () => assert.ok(await value(page.getByTestId('overview-publish-total')) > before), 12000);

      await page.getByTestId('nav-queues').click();
      const depth = queueRow(page, 'ui-depth');
      await eventually(async () => {
        assert.equal(await value(depth.getByTestId('queue-messages')), 25);
        assert.equal(await value(depth.getByTestId('queue-ready')), 25);
        assert.equal(await value(depth.getByTestId('queue-unacked')), 0);
        assert.equal(await value(depth.getByTestId('queue-consumers')), 0);
      });
      const live = queueRow(page, 'ui-live');
      await eventually(async () => {
        assert.ok(await value(live.getByTestId('queue-publish-rate')) > 0, 'queue publish rate > 0');
        assert.ok(await value(live.getByTestId('queue-messages')) >= 1);
      }, 20000);
    } finally {
      await flow.stop();
    }

    await page.getByTestId('nav-connections').click();
    await page.getByTestId('connections-filter').selectOption('stomp');
    const row = page.locator('[data-testid="connection-row"][data-protocol="stomp"]');
    await eventually(async () => {
      assert.ok(await row.count() >= 1, 'a stomp row');
      assert.equal(await row.first().getByTestId('connection-user').textContent(), 'guest');
      assert.equal(await row.first().getByTestId('connection-protocol').textContent(), 'stomp');
    });
    // the filter hides the AMQP connection, "all" shows it again
    assert.equal(await page.locator('[data-testid="connection-row"][data-protocol="amqp"]').count(), 0);
    await page.getByTestId('connections-filter').selectOption('');
    await eventually(async () => assert.ok(await page.locator('[data-testid="connection-row"][data-protocol="amqp"]').count() >= 1));
    stomp.close();
    await eventually(async () => {
      await page.getByTestId('connections-filter').selectOption('stomp');
      assert.equal(await page.locator('[data-testid="connection-row"][data-protocol="stomp"]').count(), 0);
    });
    assert.deepEqual(page.errors, []);
  });

  test('a connection is closed from the connections page, with the reason typed in', async () => {
    const victim = await amqpConnect(bridge.amqpUrl);
    let closedWith;
    victim.conn.on('close', (err) => { closedWith = err || new Error('closed without an error'); });
    const port = victim.conn.connection.stream.localPort;
    const row = page.locator(`[data-testid="connection-row"][data-name*=":${port} #"]`);
    await page.getByTestId('nav-connections').click();
    await page.getByTestId('connections-filter').selectOption('');
    await eventually(async () => assert.equal(await row.count(), 1));

    // cancelling the prompt closes nothing
    page.promptAnswer = null;
    await row.getByTestId('connection-close').click();
    await sleep(500);
    assert.equal(closedWith, undefined);
    const listed = await call('GET', '/api/connections');
    assert.ok(listed.body.some((c) => c.peer_port === port), 'still listed after a cancelled prompt');

    page.promptAnswer = 'UI test says bye';
    try {
      await row.getByTestId('connection-close').click();
      await eventually(async () => assert.match(await page.getByTestId('connection-action-result').textContent(), /closed/));
    } finally {
      page.promptAnswer = undefined;
    }
    await eventually(async () => {
      assert.ok(closedWith, 'the client saw its connection closed');
      assert.match(closedWith.message, /320/);
      assert.match(closedWith.message, /UI test says bye/);
    });
    await eventually(async () => assert.equal(await row.count(), 0));
    const after = await call('GET', '/api/connections');
    assert.ok(!after.body.some((c) => c.peer_port === port), 'gone from the API');
    assert.deepEqual(page.errors, []);
  });

  test('a queue is created from the form, then purged and deleted from the table', async () => {
    await page.getByTestId('nav-queues').click();
    await page.getByTestId('queue-create-name').fill('ui-created');
    await page.getByTestId('queue-create-arguments').fill('{"x-max-length": 100}');
    await page.getByTestId('queue-create-submit').click();
    await eventually(async () => assert.match(await page.getByTestId('queue-create-result').textContent(), /created/));
    const created = await call('GET', '/api/queues/%2F/ui-created');
    assert.equal(created.status, 200);
    assert.equal(created.body.durable, true);
    assert.equal(created.body.arguments['x-max-length'], 100);

    // declaring it again is not an error: the form says it exists
    await page.getByTestId('queue-create-name').fill('ui-created');
    await page.getByTestId('queue-create-arguments').fill('{"x-max-length": 100}');
    await page.getByTestId('queue-create-submit').click();
    await eventually(async () => assert.match(await page.getByTestId('queue-create-result').textContent(), /already exists/));

    // a bad arguments field is refused in the page, before any request
    await page.getByTestId('queue-create-name').fill('ui-never');
    await page.getByTestId('queue-create-arguments').fill('[1, 2]');
    await page.getByTestId('queue-create-submit').click();
    await eventually(async () => assert.match(await page.getByTestId('queue-create-result').textContent(), /JSON object/));
    assert.equal((await call('GET', '/api/queues/%2F/ui-never')).status, 404);

    await publish(amqpc.ch, 'ui-created', 10);
    const row = queueRow(page, 'ui-created');
    await eventually(async () => assert.equal(await value(row.getByTestId('queue-messages')), 10));
    await row.getByTestId('queue-purge').click();
    await eventually(async () => assert.match(await page.getByTestId('queue-action-result').textContent(), /purged/));
    const purged = await call('GET', '/api/queues/%2F/ui-created');
    assert.equal(purged.body.messages, 0);
    assert.equal((await amqpc.ch.checkQueue('ui-created')).messageCount, 0);
    await eventually(async () => assert.equal(await value(row.getByTestId('queue-messages')), 0));

    await row.getByTestId('queue-delete').click();
    await eventually(async () => assert.match(await page.getByTestId('queue-action-result').textContent(), /deleted/));
    assert.equal((await call('GET', '/api/queues/%2F/ui-created')).status, 404);
    await eventually(async () => assert.equal(await row.count(), 0));
    assert.deepEqual(page.errors, []);
  });

  test('the message view shows a published payload, its properties and redelivery', async () => {
    const { ch } = amqpc;
    await ch.assertQueue('ui-view', { durable: true });
    const payload = 'hello from amqplib: <b>not markup</b> ✓';
    await publish(ch, 'ui-view', 1, () => ({
      body: payload,
      options: { contentType: 'text/plain', correlationId: 'corr-42', headers: { 'x-test': 'yes' }, persistent: true },
    }));
    await page.getByTestId('nav-queues').click();
    await queueRow(page, 'ui-view').getByTestId('queue-link').click();
    await page.getByTestId('queue-detail-name').waitFor();
    assert.equal(await page.getByTestId('queue-detail-name').textContent(), 'ui-view');
    await eventually(async () => assert.equal(await value(page.getByTestId('queue-detail-messages')), 1));

    await page.getByTestId('get-count').fill('1');
    await page.getByTestId('get-ackmode').selectOption('ack_requeue_true');
    await page.getByTestId('get-submit').click();
    const msg = page.getByTestId('get-message');
    await msg.first().waitFor();
    assert.equal(await msg.count(), 1);
    assert.equal(await msg.getByTestId('get-message-payload').textContent(), payload);
    assert.equal(await msg.getByTestId('get-message-routing-key').textContent(), 'ui-view');
    assert.equal(await msg.getByTestId('get-message-redelivered').getAttribute('data-value'), 'false');
    assert.equal(await msg.getByTestId('get-message-property-content_type').textContent(), 'text/plain');
    assert.equal(await msg.getByTestId('get-message-property-correlation_id').textContent(), 'corr-42');
    assert.equal(await msg.locator('[data-testid="get-message-headers"] dd[data-header="x-test"]').textContent(), 'yes');
    assert.equal(await page.locator('b', { hasText: 'not markup' }).count(), 0, 'payload shown as text');

    // requeued: still in the queue, and the next get says it was delivered before
    assert.equal((await ch.checkQueue('ui-view')).messageCount, 1);
    await page.getByTestId('get-submit').click();
    await eventually(async () => assert.equal(await msg.getByTestId('get-message-redelivered').getAttribute('data-value'), 'true'));

    // ack mode "remove": the queue is empty afterwards
    await page.getByTestId('get-ackmode').selectOption('ack_requeue_false');
    await page.getByTestId('get-submit').click();
    await eventually(async () => assert.equal((await ch.checkQueue('ui-view')).messageCount, 0));
    await page.getByTestId('get-submit').click();
    await eventually(async () => assert.match(await page.getByTestId('get-status').textContent(), /empty/));
    assert.deepEqual(page.errors, []);
  });

  test('a message published from the queue page reaches an AMQP client', async () => {
    const { ch } = amqpc;
    await ch.assertQueue('ui-publish', { durable: false });
    await page.goto(bridge.httpUrl + '/#/queues/%2F/ui-publish');
    await page.getByTestId('publish-payload').fill('typed in the browser');
    await page.getByTestId('publish-headers').fill('{"origin": "ui"}');
    await page.getByTestId('publish-submit').click();
    await eventually(async () => assert.equal(await page.getByTestId('publish-result').textContent(), 'Message published'));
    const got = await ch.get('ui-publish', { noAck: true });
    assert.ok(got, 'the message is in the queue');
    assert.equal(got.content.toString(), 'typed in the browser');
    assert.equal(got.properties.headers.origin, 'ui');
  });

  test('exchanges and routes pages show the server state', async () => {
    await page.getByTestId('nav-exchanges').click();
    await eventually(async () => {
      assert.equal(await page.locator('[data-testid="exchange-row"][data-name="amq.topic"] [data-testid="exchange-type"]').textContent(), 'topic');
      assert.equal(await page.locator('[data-testid="exchange-row"][data-name="amq.fanout"] [data-testid="exchange-type"]').textContent(), 'fanout');
    });

    await page.getByTestId('nav-routes').click();
    const row = page.locator(`[data-testid="route-row"][data-name="${bridge.route.name}"]`);
    await eventually(async () => {
      const { body } = await call('GET', '/api/routes');
      const r = body.find((x) => x.name === bridge.route.name);
      assert.ok(r, 'the route is in the API');
      assert.notEqual(r.state, 'running', 'its target port is closed');
      assert.ok(r.last_error, 'it has an error');
      assert.equal(await row.getByTestId('route-state').textContent(), r.state);
      assert.ok((await row.getByTestId('route-last-error').textContent()).length > 0);
      assert.equal(await value(row.getByTestId('route-moved')), 0);
    }, 20000);
    assert.deepEqual(page.errors, []);
  });

  test('users, permissions and vhosts are managed from the admin page', async () => {
    const port = new URL(bridge.amqpUrl).port;
    const amqpAs = (user, password, vhost) =>
      amqpConnect(`amqp://${user}:${password}@127.0.0.1:${port}/${encodeURIComponent(vhost)}`);
    await page.getByTestId('nav-admin').click();
    const result = page.getByTestId('admin-result');

    await page.getByTestId('vhost-form-name').fill('ui-vh');
    await page.getByTestId('vhost-form-submit').click();
    await eventually(async () => assert.match(await result.textContent(), /"ui-vh" added/));
    await eventually(async () => assert.equal(await page.locator('[data-testid="admin-vhost-row"][data-name="ui-vh"]').count(), 1));

    await page.getByTestId('user-form-name').fill('ui-app');
    await page.getByTestId('user-form-password').fill('app-pw');
    await page.getByTestId('user-form-tags').fill('management');
    await page.getByTestId('user-form-submit').click();
    await eventually(async () => assert.match(await result.textContent(), /"ui-app" saved/));
    const userRow = page.locator('[data-testid="user-row"][data-name="ui-app"]');
    await eventually(async () => {
      assert.equal(await userRow.getByTestId('user-tags').textContent(), 'management');
      assert.equal(await userRow.getByTestId('user-vhosts').textContent(), 'No access');
    });

    // a regex that does not compile is refused with the server's reason
    await page.getByTestId('permission-form-user').fill('ui-app');
    await page.getByTestId('permission-form-vhost').fill('ui-vh');
    await page.getByTestId('permission-form-configure').fill('(');
    await page.getByTestId('permission-form-submit').click();
    await eventually(async () => assert.match(await result.textContent(), /Failed: bad_request/));
    await page.getByTestId('permission-form-configure').fill('^ui\\.');
    await page.getByTestId('permission-form-submit').click();
    await eventually(async () => assert.match(await result.textContent(), /Permissions of "ui-app" on "ui-vh" set/));
    const permRow = page.locator('[data-testid="permission-row"][data-user="ui-app"][data-vhost="ui-vh"]');
    await eventually(async () => assert.equal(await permRow.getByTestId('permission-configure').textContent(), '^ui\\.'));
    await eventually(async () => assert.equal(await userRow.getByTestId('user-vhosts').textContent(), 'ui-vh'));

    // the new user logs in over AMQP and is held to the permission
    const app = await amqpAs('ui-app', 'app-pw', 'ui-vh');
    app.ch.on('error', () => {}); // the refusal below closes the channel
    await app.ch.assertQueue('ui.allowed', { durable: false });
    await assert.rejects(app.ch.assertQueue('other', { durable: false }), /ACCESS_REFUSED|403/);
    await app.conn.close().catch(() => {});

    // a management user sees no Admin link
    const p = await newPage(browser.context);
    await login(p, 'ui-app', 'app-pw');
    await p.getByTestId('overview-publish-rate').waitFor();
    assert.equal(await p.getByTestId('nav-admin').isVisible(), false);
    await p.close();

    await permRow.getByTestId('permission-delete').click();
    await eventually(async () => assert.equal(await permRow.count(), 0));
    await assert.rejects(amqpAs('ui-app', 'app-pw', 'ui-vh'));
    await userRow.getByTestId('user-delete').click();
    await eventually(async () => assert.equal(await userRow.count(), 0));
    assert.equal((await call('GET', '/api/users/ui-app')).status, 404);
    await page.locator('[data-testid="admin-vhost-row"][data-name="ui-vh"]').getByTestId('vhost-delete').click();
    await eventually(async () => assert.equal(await page.locator('[data-testid="admin-vhost-row"][data-name="ui-vh"]').count(), 0));
    assert.equal((await call('GET', '/api/vhosts/ui-vh')).status, 404);
    assert.deepEqual(page.errors, []);
  });

  test('credentials the server refuses end the session with the reason', async () => {
    const p = await newPage(browser.context);
    await login(p, bridge.admin.user, bridge.admin.password);
    await p.getByTestId('overview-publish-rate').waitFor();
    await p.evaluate(() => sessionStorage.setItem('mqbridge.auth', btoa('ui-admin:changed-meanwhile')));
    await p.getByTestId('nav-queues').click();
    const error = p.getByTestId('login-error');
    await error.waitFor({ state: 'visible' });
    assert.match(await error.textContent(), /Logged out/);
    assert.equal(await p.evaluate(() => sessionStorage.getItem('mqbridge.auth')), null);
    // logging in again returns to the page that was asked for
    await p.getByTestId('login-username').fill(bridge.admin.user);
    await p.getByTestId('login-password').fill(bridge.admin.password);
    await p.getByTestId('login-submit').click();
    await p.getByTestId('queues-table').waitFor();
    // late 401s for requests sent with the refused credentials must not end the new session
    await sleep(1500);
    assert.ok(await p.evaluate(() => sessionStorage.getItem('mqbridge.auth')), 'still logged in');
    assert.equal(await p.getByTestId('login-form').count(), 0);
    await p.getByTestId('logout').click();
    await p.getByTestId('login-form').waitFor();
    assert.deepEqual(p.errors, []);
    await p.close();
  });
});
