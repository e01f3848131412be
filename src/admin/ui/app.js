// mqbridge management UI: plain JavaScript, no framework and no build step, served by the
// binary itself (src/admin/ui.rs). It calls the management API with HTTP Basic credentials
// kept in sessionStorage (gone when the tab closes), and refreshes the page it shows every
// few seconds. Everything from the server is put into the page with textContent, never as
// HTML, so names and payloads cannot inject markup. Elements the browser tests use carry a
// data-testid; those names are an interface, keep them stable.
'use strict';

(() => {
  const AUTH_KEY = 'mqbridge.auth';
  const USER_KEY = 'mqbridge.user';
  const HISTORY = 60; // samples kept for the overview's sparklines
  const PROTOCOLS = ['amqp', 'stomp', 'openwire', 'jni'];

  const state = {
    page: null, // { name, params, ctx, def }
    generation: 0, // bumps on every navigation; late answers for an old page are dropped
    timer: null,
    interval: 3000,
    loginMessage: null,
    history: { publish: [], deliver: [], ack: [] },
  };

  // ------------------------------------------------------------------ DOM helpers

  // el('div', {testid: 'x', class: 'y', text: 'z', on: {click: f}, ...attrs}, ...children)
  function el(tag, attrs, ...children) {
    const svg = tag === 'svg' || tag === 'polyline';
    const node = svg
      ? document.createElementNS('http://www.w3.org/2000/svg', tag)
      : document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'testid') node.setAttribute('data-testid', v);
      else if (k === 'text') node.textContent = v;
      else if (k === 'on') for (const [ev, f] of Object.entries(v)) node.addEventListener(ev, f);
      else if (k === 'dataset') Object.assign(node.dataset, v);
      else if (v === true) node.setAttribute(k, '');
      else node.setAttribute(k, String(v));
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.firstChild.remove();
  }

  const $ = (sel, root) => (root || document).querySelector(sel);

  // A number shown formatted, its raw value in data-value (what the tests read).
  function setNumber(node, value, format) {
    const known = typeof value === 'number' && Number.isFinite(value);
    node.textContent = known ? (format || fmtInt)(value) : '–';
    node.dataset.value = known ? String(value) : '';
  }

  function setText(node, text) {
    const t = text === null || text === undefined ? '' : String(text);
    if (node.textContent !== t) node.textContent = t;
  }

  function fmtInt(n) {
    return Math.round(n).toLocaleString('en-US');
  }

  function fmtRate(r) {
    let s;
    if (r === 0) s = '0.0';
    else if (r >= 100) s = r.toFixed(0);
    else if (r >= 1) s = r.toFixed(1);
    else if (r >= 0.01) s = r.toFixed(2);
    else s = '<0.01';
    return s + '/s';
  }

  function fmtTime(t) {
    if (t === null || t === undefined || t === '') return '';
    const d = new Date(t);
    return Number.isNaN(d.getTime()) ? String(t) : d.toLocaleString();
  }

  function fmtValue(v) {
    if (v === null || v === undefined) return '';
    return typeof v === 'object' ? JSON.stringify(v) : String(v);
  }

  const get = (obj, ...path) => path.reduce((o, k) => (o === null || o === undefined ? undefined : o[k]), obj);
  const rate = (stats, key) => get(stats, key + '_details', 'rate');
  const enc = (s) => encodeURIComponent(s);
  const byVhostName = (a, b) =>
    String(a.vhost).localeCompare(String(b.vhost)) || String(a.name).localeCompare(String(b.name));

  // Keeps table rows (and so the buttons in them) in place across refreshes: rows are
  // matched by key, updated in place, reordered, and only vanished items are removed.
  function syncRows(tbody, items, key, build, update, emptyText) {
    const existing = new Map();
    for (const tr of Array.from(tbody.children)) {
      if (tr.dataset.key !== undefined) existing.set(tr.dataset.key, tr);
      else tr.remove();
    }
    let prev = null;
    const seen = new Set();
    for (const item of items) {
      const k = key(item);
      seen.add(k);
      let tr = existing.get(k);
      if (!tr) {
        tr = build(item);
        tr.dataset.key = k;
      }
      update(tr, item);
      const want = prev ? prev.nextSibling : tbody.firstChild;
      if (tr !== want) tbody.insertBefore(tr, want);
      prev = tr;
    }
    for (const [k, tr] of existing) if (!seen.has(k)) tr.remove();
    if (!items.length) {
      const cols = tbody.closest('table').querySelectorAll('thead th').length || 1;
      tbody.append(el('tr', { class: 'empty', testid: 'empty-row' }, el('td', { colspan: cols, text: emptyText })));
    }
  }

  // A row whose cells are addressed by testid: row.cells_[testid].
  function buildRow(testid, columns, attrs) {
    const tr = el('tr', Object.assign({ testid }, attrs || {}));
    tr.cells_ = {};
    for (const c of columns) {
      const td = el('td', { testid: c.id, class: c.num ? 'num' : c.cls });
      tr.cells_[c.id] = td;
      tr.append(td);
    }
    return tr;
  }

  function table(testid, headings, bodyTestid) {
    const tbody = el('tbody', { testid: bodyTestid });
    const t = el('table', { testid, class: 'grid' },
      el('thead', {}, el('tr', {}, headings.map((h) => el('th', { class: h.num ? 'num' : null, text: h.label || h })))),
      tbody);
    return { table: t, tbody };
  }

  function showBanner(text) {
    const b = $('#banner');
    if (text) {
      b.textContent = text;
      b.hidden = false;
    } else {
      b.hidden = true;
      b.textContent = '';
    }
  }

  function flash(node, ok, text) {
    node.textContent = text;
    node.className = 'result ' + (ok ? 'ok' : 'fail');
    node.dataset.status = ok ? 'ok' : 'error';
  }

  // ------------------------------------------------------------------ API

  class ApiError extends Error {
    constructor(status, error, reason, method, path) {
      super(`${method} ${path}: ${status ? status + ' ' : ''}${error}${reason ? ': ' + reason : ''}`);
      this.status = status;
      this.error = error;
      this.reason = reason;
    }
  }

  function basic(user, password) {
    const bytes = new TextEncoder().encode(user + ':' + password);
    let bin = '';
    for (const b of bytes) bin += String.fromCharCode(b);
    return btoa(bin);
  }

  async function readError(res, method, path) {
    let error = res.statusText || 'error';
    let reason = '';
    try {
      const body = await res.json();
      if (body && typeof body === 'object') {
        error = body.error || error;
        reason = body.reason || '';
      }
    } catch (_) {
      // not JSON: the status line says enough
    }
    return new ApiError(res.status, error, reason, method, path);
  }

  // One API call with the stored (or given) credentials: { status, data }. A 401 ends the
  // session and shows the login with the server's reason.
  async function request(method, path, body, auth, extraHeaders) {
    const credentials = auth || sessionStorage.getItem(AUTH_KEY);
    if (!credentials) {
      showLogin(null);
      throw new ApiError(401, 'not_authorised', 'not logged in', method, path);
    }
    const headers = {
      Authorization: 'Basic ' + credentials,
      Accept: 'application/json',
      // lets the server answer 401 without WWW-Authenticate, so browsers show no popup
      'X-Requested-With': 'XMLHttpRequest',
      ...extraHeaders,
    };
    const init = { method, headers, cache: 'no-store', credentials: 'omit' };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(path, init);
    } catch (e) {
      throw new ApiError(0, 'no answer from the server', e.message, method, path);
    }
    if (!res.ok) {
      const err = await readError(res, method, path);
      // Only a refusal of the credentials still in use ends the session: a late 401 for a
      // request sent before the user logged in again must not log the new session out.
      if (res.status === 401 && !auth && sessionStorage.getItem(AUTH_KEY) === credentials) {
        endSession(`Logged out: ${err.error}${err.reason ? ': ' + err.reason : ''}`);
      }
      throw err;
    }
    const text = await res.text();
    let data = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch (_) {
        throw new ApiError(res.status, 'not JSON', text.slice(0, 200), method, path);
      }
    }
    return { status: res.status, data };
  }

  const api = async (method, path, body) => (await request(method, path, body)).data;

  // GET that tolerates an endpoint the server does not have (404): null instead of an error.
  async function optional(path) {
    try {
      return await api('GET', path);
    } catch (e) {
      if (e.status === 404) return null;
      throw e;
    }
  }

  // ------------------------------------------------------------------ session

  function endSession(message) {
    sessionStorage.removeItem(AUTH_KEY);
    sessionStorage.removeItem(USER_KEY);
    showLogin(message);
  }

  function showLogin(message) {
    state.loginMessage = message;
    if (!location.hash.startsWith('#/login')) {
      const back = location.hash && location.hash !== '#/' ? location.hash : '#/overview';
      sessionStorage.setItem('mqbridge.after-login', back);
      location.hash = '#/login';
    } else {
      route();
    }
  }

  function renderSession() {
    const raw = sessionStorage.getItem(USER_KEY);
    let who = null;
    try {
      who = raw ? JSON.parse(raw) : null;
    } catch (_) {
      who = null;
    }
    const loggedIn = Boolean(sessionStorage.getItem(AUTH_KEY));
    $('#top').hidden = !loggedIn;
    setText($('[data-testid="whoami-name"]'), who ? who.name : '');
    const tags = who && who.tags ? (Array.isArray(who.tags) ? who.tags.join(', ') : who.tags) : '';
    setText($('[data-testid="whoami-tags"]'), tags ? `(${tags})` : '');
    // Users, permissions and vhosts are for administrators (the API refuses others too).
    const tagList = who && Array.isArray(who.tags) ? who.tags : String((who && who.tags) || '').split(',');
    const admin = tagList.map((t) => String(t).trim()).includes('administrator');
    $('[data-testid="nav-admin"]').hidden = !admin;
  }

  // ------------------------------------------------------------------ pages

  const pages = {};

  pages.login = {
    title: 'Log in',
    public: true,
    mount(main) {
      const error = el('p', { testid: 'login-error', class: 'result fail', role: 'alert' });
      error.hidden = !state.loginMessage;
      error.textContent = state.loginMessage || '';
      const user = el('input', { testid: 'login-username', name: 'username', autocomplete: 'username', required: true, autofocus: true });
      const pass = el('input', { testid: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password' });
      const submit = el('button', { testid: 'login-submit', type: 'submit', text: 'Log in' });
      const form = el('form', { testid: 'login-form', class: 'login' },
        el('h1', { text: 'mqbridge' }),
        el('label', {}, 'Username', user),
        el('label', {}, 'Password', pass),
        submit, error);
      form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        submit.disabled = true;
        const auth = basic(user.value, pass.value);
        try {
          const { data } = await request('GET', '/api/whoami', undefined, auth);
          sessionStorage.setItem(AUTH_KEY, auth);
          sessionStorage.setItem(USER_KEY, JSON.stringify(data || { name: user.value }));
          state.loginMessage = null;
          const back = sessionStorage.getItem('mqbridge.after-login') || '#/overview';
          sessionStorage.removeItem('mqbridge.after-login');
          location.hash = back.startsWith('#/login') ? '#/overview' : back;
        } catch (e) {
          const why = e.status === 401 ? 'Login failed' : 'Cannot log in';
          error.textContent = `${why}: ${e.error}${e.reason ? ' (' + e.reason + ')' : ''}`;
          error.hidden = false;
          pass.select();
        } finally {
          submit.disabled = false;
        }
      });
      main.append(form);
      user.focus();
      return {};
    },
  };

  // ---- overview

  function tile(testid, label, extra) {
    const value = el('span', { testid, class: 'value', text: '–' });
    return { node: el('div', { class: 'tile' }, el('span', { class: 'label', text: label }), value, extra || null), value };
  }

  function sparkline(testid) {
    const line = el('polyline', { fill: 'none', 'stroke-width': '1.5', points: '' });
    const svg = el('svg', { testid, class: 'spark', viewBox: `0 0 ${HISTORY - 1} 20`, preserveAspectRatio: 'none' }, line);
    return { svg, line };
  }

  function drawSpark(line, samples) {
    const max = Math.max(1, ...samples);
    const offset = HISTORY - samples.length;
    line.setAttribute('points', samples.map((v, i) => `${i + offset},${(20 - (v / max) * 19).toFixed(2)}`).join(' '));
  }

  pages.overview = {
    title: 'Overview',
    mount(main) {
      const ctx = { tiles: {}, sparks: {} };
      const rates = el('div', { class: 'tiles' });
      for (const [key, label] of [['publish', 'Publish'], ['deliver', 'Deliver / get'], ['ack', 'Ack']]) {
        const total = el('span', { testid: `overview-${key}-total`, class: 'sub', text: '' });
        const spark = sparkline(`overview-${key}-spark`);
        const t = tile(`overview-${key}-rate`, label, el('div', {}, spark.svg, total));
        ctx.tiles[key + '-rate'] = t.value;
        ctx.tiles[key + '-total'] = total;
        ctx.sparks[key] = spark.line;
        rates.append(t.node);
      }
      const queued = el('div', { class: 'tiles' });
      for (const [key, label] of [['messages', 'Total'], ['messages-ready', 'Ready'], ['messages-unacked', 'Unacked']]) {
        const t = tile(`overview-${key}`, label);
        ctx.tiles[key] = t.value;
        queued.append(t.node);
      }
      const totals = el('div', { class: 'tiles' });
      for (const key of ['connections', 'channels', 'exchanges', 'queues', 'consumers']) {
        const t = tile(`overview-${key}`, key[0].toUpperCase() + key.slice(1));
        ctx.tiles[key] = t.value;
        totals.append(t.node);
      }
      const protocols = el('div', { class: 'tiles' });
      for (const p of PROTOCOLS) {
        const t = tile(`overview-protocol-${p}`, p.toUpperCase());
        ctx.tiles['protocol-' + p] = t.value;
        protocols.append(el('a', { href: `#/connections/${p}`, class: 'tile-link', testid: `overview-protocol-link-${p}` }, t.node));
      }
      const listeners = table('listeners-table', ['Protocol', 'Address', 'Port'], 'listeners-body');
      ctx.listeners = listeners.tbody;
      ctx.alarm = el('p', { testid: 'overview-alarm', class: 'result fail', role: 'alert',
        text: 'Resource alarm: publishers are blocked until memory use or free disk space is back within its limit.' });
      ctx.alarm.hidden = true;
      main.append(
        el('h1', { text: 'Overview' }),
        ctx.alarm,
        el('section', {}, el('h2', { text: 'Message rates' }), rates),
        el('section', {}, el('h2', { text: 'Queued messages' }), queued),
        el('section', {}, el('h2', { text: 'Connections by protocol' }), protocols),
        el('section', {}, el('h2', { text: 'Totals' }), totals),
        el('section', {}, el('h2', { text: 'Listeners' }), listeners.table),
      );
      return ctx;
    },
    async refresh(ctx, live) {
      const o = await api('GET', '/api/overview');
      if (!live()) return;
      const product = [o.product_name, o.product_version, o.node ? 'on ' + o.node : null].filter(Boolean).join(' ');
      setText($('[data-testid="product"]'), product);
      ctx.alarm.hidden = o.resource_alarm !== true;
      const ms = o.message_stats || {};
      for (const [key, stat] of [['publish', 'publish'], ['deliver', 'deliver_get'], ['ack', 'ack']]) {
        const r = rate(ms, stat);
        setNumber(ctx.tiles[key + '-rate'], r, fmtRate);
        const total = ms[stat];
        setText(ctx.tiles[key + '-total'], typeof total === 'number' ? `${fmtInt(total)} total` : '');
        ctx.tiles[key + '-total'].dataset.value = typeof total === 'number' ? String(total) : '';
        const h = state.history[key];
        h.push(typeof r === 'number' ? r : 0);
        if (h.length > HISTORY) h.shift();
        drawSpark(ctx.sparks[key], h);
      }
      const qt = o.queue_totals || {};
      setNumber(ctx.tiles.messages, qt.messages);
      setNumber(ctx.tiles['messages-ready'], qt.messages_ready);
      setNumber(ctx.tiles['messages-unacked'], qt.messages_unacknowledged);
      const ot = o.object_totals || {};
      for (const key of ['connections', 'channels', 'exchanges', 'queues', 'consumers']) setNumber(ctx.tiles[key], ot[key]);
      const cp = o.connections_by_protocol || {};
      for (const p of PROTOCOLS) setNumber(ctx.tiles['protocol-' + p], cp[p] || 0);
      const ls = (o.listeners || []).slice().sort((a, b) => String(a.protocol).localeCompare(String(b.protocol)) || a.port - b.port);
      syncRows(ctx.listeners, ls, (l) => `${l.protocol}|${l.ip_address}|${l.port}`,
        () => buildRow('listener-row', [{ id: 'listener-protocol' }, { id: 'listener-ip' }, { id: 'listener-port', num: true }]),
        (tr, l) => {
          setText(tr.cells_['listener-protocol'], l.protocol);
          setText(tr.cells_['listener-ip'], l.ip_address);
          setNumber(tr.cells_['listener-port'], l.port, String);
        }, 'No listeners');
    },
  };

  // ---- connections

  pages.connections = {
    title: 'Connections',
    mount(main, params) {
      const ctx = { protocol: PROTOCOLS.includes(params[0]) ? params[0] : '' };
      const filter = el('select', { testid: 'connections-filter' },
        el('option', { value: '', text: 'all protocols' }),
        PROTOCOLS.map((p) => el('option', { value: p, text: p })));
      filter.value = ctx.protocol;
      filter.addEventListener('change', () => {
        location.hash = filter.value ? `#/connections/${filter.value}` : '#/connections';
      });
      ctx.counts = el('span', { testid: 'connections-counts', class: 'counts' });
      ctx.result = el('p', { testid: 'connection-action-result', class: 'result', role: 'status' });
      const t = table('connections-table',
        ['Name', 'Protocol', 'User', 'Virtual host', 'Peer', { label: 'Channels', num: true }, 'State', 'Connected at', ''],
        'connections-body');
      ctx.tbody = t.tbody;
      main.append(el('h1', { text: 'Connections' }),
        el('div', { class: 'toolbar' }, el('label', {}, 'Protocol ', filter), ctx.counts), t.table, ctx.result);
      return ctx;
    },
    async refresh(ctx, live) {
      const all = (await api('GET', '/api/connections')) || [];
      if (!live()) return;
      const counts = {};
      for (const c of all) counts[c.protocol] = (counts[c.protocol] || 0) + 1;
      setText(ctx.counts, PROTOCOLS.map((p) => `${p}: ${counts[p] || 0}`).join(' · '));
      const shown = all.filter((c) => !ctx.protocol || c.protocol === ctx.protocol)
        .sort((a, b) => String(a.name).localeCompare(String(b.name)));
      syncRows(ctx.tbody, shown, (c) => String(c.name),
        (c) => {
          const tr = buildRow('connection-row', [
            { id: 'connection-name' }, { id: 'connection-protocol' }, { id: 'connection-user' },
            { id: 'connection-vhost' }, { id: 'connection-peer' }, { id: 'connection-channels', num: true },
            { id: 'connection-state' }, { id: 'connection-connected-at' }, { id: 'connection-actions', cls: 'actions' },
          ], { dataset: { name: c.name } });
          const close = el('button', { type: 'button', testid: 'connection-close', class: 'danger', text: 'Close' });
          close.addEventListener('click', async () => {
            close.disabled = true;
            if (await closeConnection(c.name, ctx.result)) refreshNow();
            close.disabled = false;
          });
          tr.cells_['connection-actions'].append(close);
          return tr;
        },
        (tr, c) => {
          tr.dataset.protocol = c.protocol;
          tr.dataset.user = c.user || '';
          setText(tr.cells_['connection-name'], c.name);
          setText(tr.cells_['connection-protocol'], c.protocol);
          setText(tr.cells_['connection-user'], c.user);
          setText(tr.cells_['connection-vhost'], c.vhost);
          const host = String(c.peer_host || '');
          setText(tr.cells_['connection-peer'], host.includes(':') ? `[${host}]:${c.peer_port}` : `${host}:${c.peer_port}`);
          setNumber(tr.cells_['connection-channels'], c.channels);
          setText(tr.cells_['connection-state'], c.state);
          setText(tr.cells_['connection-connected-at'], fmtTime(c.connected_at));
        }, ctx.protocol ? `No ${ctx.protocol} connections` : 'No connections');
    },
  };

  // As RabbitMQ's UI: the reason asked for goes to the client (AMQP close text, STOMP ERROR).
  async function closeConnection(name, result) {
    const reason = window.prompt(`Close connection "${name}"? Reason sent to the client:`, 'Closed via management UI');
    if (reason === null) return false;
    try {
      // A header value must be Latin-1 without controls: anything else becomes '?'.
      const header = reason.replace(/[^\x20-\x7e]/g, '?');
      await request('DELETE', `/api/connections/${enc(name)}`, undefined, undefined, { 'X-Reason': header });
      flash(result, true, `Connection "${name}" closed`);
      return true;
    } catch (e) {
      flash(result, false, `Closing "${name}" failed: ${e.message}`);
      return false;
    }
  }

  // ---- exchanges

  pages.exchanges = {
    title: 'Exchanges',
    mount(main) {
      const t = table('exchanges-table',
        ['Name', 'Virtual host', 'Type', 'Features', { label: 'Rate in', num: true }, { label: 'Rate out', num: true }],
        'exchanges-body');
      main.append(el('h1', { text: 'Exchanges' }), t.table);
      return { tbody: t.tbody };
    },
    async refresh(ctx, live) {
      const list = ((await api('GET', '/api/exchanges')) || []).slice().sort(byVhostName);
      if (!live()) return;
      syncRows(ctx.tbody, list, (x) => `${x.vhost}|${x.name}`,
        (x) => buildRow('exchange-row', [
          { id: 'exchange-name' }, { id: 'exchange-vhost' }, { id: 'exchange-type' }, { id: 'exchange-features' },
          { id: 'exchange-rate-in', num: true }, { id: 'exchange-rate-out', num: true },
        ], { dataset: { name: x.name, vhost: x.vhost } }),
        (tr, x) => {
          setText(tr.cells_['exchange-name'], x.name === '' || x.name === 'amq.default' ? '(AMQP default)' : x.name);
          setText(tr.cells_['exchange-vhost'], x.vhost);
          setText(tr.cells_['exchange-type'], x.type);
          setText(tr.cells_['exchange-features'], features(x));
          tr.cells_['exchange-features'].title = FEATURES_HELP;
          setNumber(tr.cells_['exchange-rate-in'], rate(x.message_stats, 'publish_in'), fmtRate);
          setNumber(tr.cells_['exchange-rate-out'], rate(x.message_stats, 'publish_out'), fmtRate);
        }, 'No exchanges');
    },
  };

  const FEATURES_HELP = 'D: durable, AD: auto-delete, Excl: exclusive, I: internal; then the arguments';

  function features(x) {
    const f = [];
    if (x.durable) f.push('D');
    if (x.auto_delete) f.push('AD');
    if (x.exclusive) f.push('Excl');
    if (x.internal) f.push('I');
    for (const [k, v] of Object.entries(x.arguments || {})) f.push(`${k}=${fmtValue(v)}`);
    return f.join(' ');
  }

  // ---- queues

  function queuePath(vhost, name) {
    return `/api/queues/${enc(vhost)}/${enc(name)}`;
  }

  async function purgeQueue(q, result) {
    if (!window.confirm(`Purge all ready messages of queue "${q.name}"?`)) return false;
    try {
      await api('DELETE', queuePath(q.vhost, q.name) + '/contents');
      flash(result, true, `Queue "${q.name}" purged`);
      return true;
    } catch (e) {
      flash(result, false, `Purge of "${q.name}" failed: ${e.message}`);
      return false;
    }
  }

  async function deleteQueue(q, result) {
    if (!window.confirm(`Delete queue "${q.name}" and its messages?`)) return false;
    try {
      await api('DELETE', queuePath(q.vhost, q.name));
      flash(result, true, `Queue "${q.name}" deleted`);
      return true;
    } catch (e) {
      flash(result, false, `Delete of "${q.name}" failed: ${e.message}`);
      return false;
    }
  }

  function parseArguments(text) {
    const t = text.trim();
    if (!t) return {};
    let v;
    try {
      v = JSON.parse(t);
    } catch (e) {
      throw new Error('arguments are not JSON: ' + e.message);
    }
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('arguments must be a JSON object');
    return v;
  }

  const QUEUE_COLUMNS = [
    { id: 'queue-name' }, { id: 'queue-vhost' }, { id: 'queue-features' },
    { id: 'queue-messages', num: true }, { id: 'queue-ready', num: true }, { id: 'queue-unacked', num: true },
    { id: 'queue-consumers', num: true }, { id: 'queue-publish-rate', num: true },
    { id: 'queue-deliver-rate', num: true }, { id: 'queue-ack-rate', num: true }, { id: 'queue-actions', cls: 'actions' },
  ];

  pages.queues = {
    title: 'Queues',
    mount(main) {
      const ctx = { items: [] };
      ctx.filter = el('input', { testid: 'queue-filter', type: 'search', placeholder: 'filter by name' });
      ctx.filter.addEventListener('input', () => render(ctx));
      ctx.result = el('p', { testid: 'queue-action-result', class: 'result', role: 'status' });
      const t = table('queues-table', [
        'Name', 'Virtual host', 'Features', { label: 'Messages', num: true }, { label: 'Ready', num: true },
        { label: 'Unacked', num: true }, { label: 'Consumers', num: true }, { label: 'Publish', num: true },
        { label: 'Deliver / get', num: true }, { label: 'Ack', num: true }, '',
      ], 'queues-body');
      ctx.tbody = t.tbody;
      main.append(el('h1', { text: 'Queues' }),
        el('div', { class: 'toolbar' }, ctx.filter, ctx.count = el('span', { testid: 'queue-count', class: 'counts' })),
        t.table, ctx.result, createQueueForm(ctx));
      return ctx;
    },
    async refresh(ctx, live) {
      const list = (await api('GET', '/api/queues')) || [];
      if (!live()) return;
      ctx.items = list.slice().sort(byVhostName);
      render(ctx);
    },
  };

  function render(ctx) {
    const f = ctx.filter.value.trim().toLowerCase();
    const shown = ctx.items.filter((q) => !f || String(q.name).toLowerCase().includes(f));
    setText(ctx.count, `${shown.length} of ${ctx.items.length} queues`);
    syncRows(ctx.tbody, shown, (q) => `${q.vhost}|${q.name}`,
      (q) => {
        const tr = buildRow('queue-row', QUEUE_COLUMNS, { dataset: { name: q.name, vhost: q.vhost } });
        tr.cells_['queue-name'].append(el('a', { testid: 'queue-link', href: `#/queues/${enc(q.vhost)}/${enc(q.name)}`, text: q.name }));
        const purge = el('button', { type: 'button', testid: 'queue-purge', text: 'Purge' });
        const del = el('button', { type: 'button', testid: 'queue-delete', class: 'danger', text: 'Delete' });
        purge.addEventListener('click', async () => {
          purge.disabled = true;
          if (await purgeQueue(q, ctx.result)) refreshNow();
          purge.disabled = false;
        });
        del.addEventListener('click', async () => {
          del.disabled = true;
          if (await deleteQueue(q, ctx.result)) refreshNow();
          del.disabled = false;
        });
        tr.cells_['queue-actions'].append(purge, ' ', del);
        return tr;
      },
      (tr, q) => {
        setText(tr.cells_['queue-vhost'], q.vhost);
        setText(tr.cells_['queue-features'], features(q));
        tr.cells_['queue-features'].title = FEATURES_HELP;
        setNumber(tr.cells_['queue-messages'], q.messages);
        setNumber(tr.cells_['queue-ready'], q.messages_ready);
        setNumber(tr.cells_['queue-unacked'], q.messages_unacknowledged);
        setNumber(tr.cells_['queue-consumers'], q.consumers);
        setNumber(tr.cells_['queue-publish-rate'], rate(q.message_stats, 'publish'), fmtRate);
        setNumber(tr.cells_['queue-deliver-rate'], rate(q.message_stats, 'deliver_get'), fmtRate);
        setNumber(tr.cells_['queue-ack-rate'], rate(q.message_stats, 'ack'), fmtRate);
      }, ctx.items.length ? 'No queue matches the filter' : 'No queues');
  }

  function createQueueForm(ctx) {
    const name = el('input', { testid: 'queue-create-name', name: 'name', required: true });
    const vhost = el('input', { testid: 'queue-create-vhost', name: 'vhost', list: 'vhost-list', value: '/' });
    const vhosts = el('datalist', { id: 'vhost-list' });
    const durable = el('input', { testid: 'queue-create-durable', type: 'checkbox', checked: true });
    const autoDelete = el('input', { testid: 'queue-create-auto-delete', type: 'checkbox' });
    const args = el('textarea', { testid: 'queue-create-arguments', rows: 2, placeholder: '{"x-message-ttl": 60000}' });
    const submit = el('button', { testid: 'queue-create-submit', type: 'submit', text: 'Add queue' });
    const result = el('p', { testid: 'queue-create-result', class: 'result', role: 'status' });
    const form = el('form', { testid: 'queue-create-form', class: 'form' },
      el('h2', { text: 'Add a queue' }),
      el('label', {}, 'Virtual host', vhost, vhosts),
      el('label', {}, 'Name', name),
      el('label', { class: 'check' }, durable, 'Durable'),
      el('label', { class: 'check' }, autoDelete, 'Auto delete'),
      el('label', {}, 'Arguments (JSON object)', args),
      submit, result);
    optional('/api/vhosts').then((list) => {
      for (const v of list || []) vhosts.append(el('option', { value: v.name }));
    }).catch(() => {});
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      submit.disabled = true;
      try {
        const body = { durable: durable.checked, auto_delete: autoDelete.checked, arguments: parseArguments(args.value) };
        const { status } = await request('PUT', queuePath(vhost.value || '/', name.value), body);
        flash(result, true, status === 201 ? `Queue "${name.value}" created` : `Queue "${name.value}" already exists`);
        name.value = '';
        refreshNow();
      } catch (e) {
        flash(result, false, e instanceof ApiError ? `Not created: ${e.error}${e.reason ? ': ' + e.reason : ''}` : e.message);
      } finally {
        submit.disabled = false;
      }
    });
    return form;
  }

  // ---- queue detail

  pages.queue = {
    title: 'Queue',
    mount(main, params) {
      const ctx = { vhost: params[0], name: params[1] };
      ctx.tiles = {};
      const tiles = el('div', { class: 'tiles' });
      for (const [key, label, isRate] of [
        ['messages', 'Messages'], ['ready', 'Ready'], ['unacked', 'Unacked'], ['consumers', 'Consumers'],
        ['publish-rate', 'Publish', true], ['deliver-rate', 'Deliver / get', true], ['ack-rate', 'Ack', true],
      ]) {
        const t = tile(`queue-detail-${key}`, label);
        t.value.dataset.rate = isRate ? '1' : '';
        ctx.tiles[key] = t.value;
        tiles.append(t.node);
      }
      ctx.result = el('p', { testid: 'queue-detail-result', class: 'result', role: 'status' });
      const purge = el('button', { type: 'button', testid: 'queue-detail-purge', text: 'Purge messages' });
      const del = el('button', { type: 'button', testid: 'queue-detail-delete', class: 'danger', text: 'Delete queue' });
      purge.addEventListener('click', async () => {
        if (await purgeQueue(ctx, ctx.result)) refreshNow();
      });
      del.addEventListener('click', async () => {
        if (await deleteQueue(ctx, ctx.result)) location.hash = '#/queues';
      });
      ctx.features = el('p', { testid: 'queue-detail-features', class: 'features' });
      ctx.missing = el('p', { testid: 'queue-detail-missing', class: 'result fail', text: 'This queue does not exist (any more).' });
      ctx.missing.hidden = true;
      const consumers = table('queue-consumers-table',
        ['Consumer tag', 'Channel', 'Ack required', { label: 'Prefetch', num: true }], 'queue-consumers-body');
      const bindings = table('queue-bindings-table', ['From exchange', 'Routing key', 'Arguments'], 'queue-bindings-body');
      ctx.consumers = consumers.tbody;
      ctx.bindings = bindings.tbody;
      main.append(
        el('p', { class: 'crumbs' }, el('a', { href: '#/queues', testid: 'back-to-queues', text: 'Queues' }), ' / ', ctx.vhost),
        el('h1', { testid: 'queue-detail-name', text: ctx.name }),
        ctx.missing, ctx.features, tiles,
        el('div', { class: 'toolbar' }, purge, del), ctx.result,
        getMessagesForm(ctx),
        publishForm(ctx),
        el('section', {}, el('h2', { text: 'Consumers' }), consumers.table),
        el('section', {}, el('h2', { text: 'Bindings' }), bindings.table),
      );
      return ctx;
    },
    async refresh(ctx, live) {
      let q;
      try {
        q = await api('GET', queuePath(ctx.vhost, ctx.name));
      } catch (e) {
        if (e.status !== 404) throw e;
        if (live()) ctx.missing.hidden = false;
        return;
      }
      const [consumers, bindings] = await Promise.all([optional('/api/consumers'), optional('/api/bindings')]);
      if (!live()) return;
      ctx.missing.hidden = true;
      setText(ctx.features, features(q) || 'transient');
      setNumber(ctx.tiles.messages, q.messages);
      setNumber(ctx.tiles.ready, q.messages_ready);
      setNumber(ctx.tiles.unacked, q.messages_unacknowledged);
      setNumber(ctx.tiles.consumers, q.consumers);
      setNumber(ctx.tiles['publish-rate'], rate(q.message_stats, 'publish'), fmtRate);
      setNumber(ctx.tiles['deliver-rate'], rate(q.message_stats, 'deliver_get'), fmtRate);
      setNumber(ctx.tiles['ack-rate'], rate(q.message_stats, 'ack'), fmtRate);
      const mine = (consumers || []).filter((c) => get(c, 'queue', 'name') === ctx.name && get(c, 'queue', 'vhost') === ctx.vhost);
      syncRows(ctx.consumers, mine, (c) => `${consumerChannel(c)}|${c.consumer_tag}`,
        () => buildRow('consumer-row', [{ id: 'consumer-tag' }, { id: 'consumer-channel' }, { id: 'consumer-ack' }, { id: 'consumer-prefetch', num: true }]),
        (tr, c) => {
          setText(tr.cells_['consumer-tag'], c.consumer_tag);
          setText(tr.cells_['consumer-channel'], consumerChannel(c));
          setText(tr.cells_['consumer-ack'], c.ack_required ? 'yes' : 'no');
          setNumber(tr.cells_['consumer-prefetch'], c.prefetch_count);
        }, 'No consumers');
      const bound = (bindings || []).filter((b) => b.destination === ctx.name && b.vhost === ctx.vhost && (b.destination_type || 'queue') === 'queue');
      syncRows(ctx.bindings, bound, (b) => `${b.source}|${b.routing_key}|${JSON.stringify(b.arguments || {})}`,
        () => buildRow('binding-row', [{ id: 'binding-source' }, { id: 'binding-key' }, { id: 'binding-arguments' }]),
        (tr, b) => {
          setText(tr.cells_['binding-source'], b.source === '' ? '(AMQP default)' : b.source);
          setText(tr.cells_['binding-key'], b.routing_key);
          setText(tr.cells_['binding-arguments'], Object.keys(b.arguments || {}).length ? JSON.stringify(b.arguments) : '');
        }, 'No bindings');
    },
  };

  // RabbitMQ names the channel; a STOMP or OpenWire consumer may only have a connection.
  function consumerChannel(c) {
    const d = c.channel_details || {};
    return String(d.name || d.connection_name || '');
  }

  function getMessagesForm(ctx) {
    const count = el('input', { testid: 'get-count', type: 'number', min: 1, value: 1, required: true });
    const ackmode = el('select', { testid: 'get-ackmode' },
      el('option', { value: 'ack_requeue_true', text: 'Nack, requeue (the messages stay in the queue)' }),
      el('option', { value: 'ack_requeue_false', text: 'Ack, remove them from the queue' }));
    const truncate = el('input', { testid: 'get-truncate', type: 'number', min: 1, placeholder: 'bytes (optional)' });
    const submit = el('button', { testid: 'get-submit', type: 'submit', text: 'Get messages' });
    const status = el('p', { testid: 'get-status', class: 'result', role: 'status' });
    const list = el('div', { testid: 'get-result', class: 'messages' });
    const form = el('form', { testid: 'get-form', class: 'form' },
      el('h2', { text: 'Get messages' }),
      el('label', {}, 'Messages', count),
      el('label', {}, 'Ack mode', ackmode),
      el('label', {}, 'Truncate payload at', truncate),
      submit, status, list);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      submit.disabled = true;
      clear(list);
      try {
        const body = { count: Number(count.value) || 1, ackmode: ackmode.value, encoding: 'auto' };
        if (truncate.value) body.truncate = Number(truncate.value);
        const msgs = (await api('POST', queuePath(ctx.vhost, ctx.name) + '/get', body)) || [];
        flash(status, true, msgs.length ? `${msgs.length} message${msgs.length === 1 ? '' : 's'}` : 'Queue is empty');
        msgs.forEach((m, i) => list.append(messageView(m, i + 1)));
        refreshNow();
      } catch (e) {
        flash(status, false, e.message);
      } finally {
        submit.disabled = false;
      }
    });
    return form;
  }

  function messageView(m, n) {
    const props = el('dl', { testid: 'get-message-properties', class: 'props' });
    const p = Object.assign({}, m.properties || {});
    const headers = p.headers;
    delete p.headers;
    for (const [k, v] of Object.entries(p)) {
      props.append(el('dt', { text: k }), el('dd', { testid: `get-message-property-${k}`, text: fmtValue(v) }));
    }
    const hdrs = el('dl', { testid: 'get-message-headers', class: 'props' });
    for (const [k, v] of Object.entries(headers || {})) {
      hdrs.append(el('dt', { text: k }), el('dd', { dataset: { header: k }, text: fmtValue(v) }));
    }
    const encoding = m.payload_encoding || 'string';
    return el('article', { testid: 'get-message', class: 'message', dataset: { index: n } },
      el('h3', { text: `Message ${n}` }),
      el('table', { class: 'kv' }, el('tbody', {},
        el('tr', {}, el('th', { text: 'Exchange' }), el('td', { testid: 'get-message-exchange', text: m.exchange === '' ? '(AMQP default)' : m.exchange })),
        el('tr', {}, el('th', { text: 'Routing key' }), el('td', { testid: 'get-message-routing-key', text: m.routing_key })),
        el('tr', {}, el('th', { text: 'Redelivered' }), el('td', { testid: 'get-message-redelivered', dataset: { value: String(Boolean(m.redelivered)) }, text: m.redelivered ? 'yes' : 'no' })),
        el('tr', {}, el('th', { text: 'Remaining in queue' }), el('td', { testid: 'get-message-remaining', text: fmtValue(m.message_count) })),
        el('tr', {}, el('th', { text: 'Properties' }), el('td', {}, props)),
        el('tr', {}, el('th', { text: 'Headers' }), el('td', {}, hdrs)),
        el('tr', {}, el('th', { text: 'Payload' }), el('td', {},
          el('span', { testid: 'get-message-payload-info', class: 'sub', text: `${fmtValue(m.payload_bytes)} bytes, encoding: ${encoding}` }),
          el('pre', { testid: 'get-message-payload', dataset: { encoding }, text: m.payload === null || m.payload === undefined ? '' : String(m.payload) }))),
      )));
  }

  function publishForm(ctx) {
    const key = el('input', { testid: 'publish-routing-key', value: ctx.name });
    const persistent = el('input', { testid: 'publish-persistent', type: 'checkbox' });
    const headers = el('textarea', { testid: 'publish-headers', rows: 2, placeholder: '{"type": "order"}' });
    const payload = el('textarea', { testid: 'publish-payload', rows: 4 });
    const submit = el('button', { testid: 'publish-submit', type: 'submit', text: 'Publish message' });
    const result = el('p', { testid: 'publish-result', class: 'result', role: 'status' });
    const form = el('form', { testid: 'publish-form', class: 'form' },
      el('h2', { text: 'Publish a message' }),
      el('p', { class: 'sub', text: 'Through the default exchange: the routing key names the queue.' }),
      el('label', {}, 'Routing key', key),
      el('label', { class: 'check' }, persistent, 'Persistent'),
      el('label', {}, 'Headers (JSON object)', headers),
      el('label', {}, 'Payload', payload),
      submit, result);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      submit.disabled = true;
      try {
        const properties = { delivery_mode: persistent.checked ? 2 : 1 };
        const h = parseArguments(headers.value);
        if (Object.keys(h).length) properties.headers = h;
        const r = await api('POST', `/api/exchanges/${enc(ctx.vhost)}/amq.default/publish`,
          { properties, routing_key: key.value, payload: payload.value, payload_encoding: 'string' });
        const routed = Boolean(r && r.routed);
        flash(result, routed, routed ? 'Message published' : 'Message published but not routed (no such queue)');
        refreshNow();
      } catch (e) {
        flash(result, false, e.message);
      } finally {
        submit.disabled = false;
      }
    });
    return form;
  }

  // ---- routes

  pages.routes = {
    title: 'Routes',
    mount(main) {
      const t = table('routes-table', [
        'Name', 'State', { label: 'Moved', num: true }, { label: 'Retried', num: true },
        { label: 'Dead-lettered', num: true }, { label: 'Filtered', num: true },
        { label: 'Reconnects', num: true }, 'Last error',
      ], 'routes-body');
      main.append(el('h1', { text: 'Routes' }), t.table);
      return { tbody: t.tbody };
    },
    async refresh(ctx, live) {
      const list = ((await api('GET', '/api/routes')) || []).slice()
        .sort((a, b) => String(a.name).localeCompare(String(b.name)));
      if (!live()) return;
      syncRows(ctx.tbody, list, (r) => String(r.name),
        (r) => buildRow('route-row', [
          { id: 'route-name' }, { id: 'route-state' }, { id: 'route-moved', num: true }, { id: 'route-retried', num: true },
          { id: 'route-dead-lettered', num: true }, { id: 'route-filtered', num: true },
          { id: 'route-reconnects', num: true }, { id: 'route-last-error', cls: 'error-text' },
        ], { dataset: { name: r.name } }),
        (tr, r) => {
          setText(tr.cells_['route-name'], r.name);
          const s = tr.cells_['route-state'];
          setText(s, r.state);
          s.className = 'state state-' + String(r.state || 'unknown').replace(/[^a-z]/g, '');
          setNumber(tr.cells_['route-moved'], r.moved);
          setNumber(tr.cells_['route-retried'], r.retried);
          setNumber(tr.cells_['route-dead-lettered'], r.dead_lettered);
          setNumber(tr.cells_['route-filtered'], r.filtered);
          setNumber(tr.cells_['route-reconnects'], r.reconnects);
          setText(tr.cells_['route-last-error'], r.last_error || '');
        }, 'No routes configured');
    },
  };

  // ---- admin: users, permissions, vhosts (administrators only, as RabbitMQ's Admin tab)

  const adminAction = async (result, doing, call) => {
    try {
      await call();
      flash(result, true, doing);
      refreshNow();
      return true;
    } catch (e) {
      flash(result, false, e instanceof ApiError ? `Failed: ${e.error}${e.reason ? ': ' + e.reason : ''}` : e.message);
      return false;
    }
  };

  function deleteButton(testid, question, result, doing, path) {
    const b = el('button', { type: 'button', testid, class: 'danger', text: 'Delete' });
    b.addEventListener('click', async () => {
      if (!window.confirm(question)) return;
      b.disabled = true;
      await adminAction(result, doing, () => request('DELETE', path));
      b.disabled = false;
    });
    return b;
  }

  function adminForm(testid, title, fields, submitText, onSubmit) {
    const submit = el('button', { testid: `${testid}-submit`, type: 'submit', text: submitText });
    const form = el('form', { testid, class: 'form' }, el('h2', { text: title }),
      fields.map(([label, input]) => el('label', { class: input.type === 'checkbox' ? 'check' : null }, label, input)),
      submit);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      submit.disabled = true;
      await onSubmit();
      submit.disabled = false;
    });
    return form;
  }

  pages.admin = {
    title: 'Admin',
    mount(main) {
      const ctx = {};
      ctx.result = el('p', { testid: 'admin-result', class: 'result', role: 'status' });
      const users = table('users-table', ['Name', 'Tags', 'Can access virtual hosts', ''], 'users-body');
      const perms = table('permissions-table', ['User', 'Virtual host', 'Configure', 'Write', 'Read', ''], 'permissions-body');
      const vhosts = table('admin-vhosts-table', ['Name', { label: 'Messages', num: true }, ''], 'admin-vhosts-body');
      Object.assign(ctx, { users: users.tbody, perms: perms.tbody, vhosts: vhosts.tbody });
      ctx.userList = el('datalist', { id: 'admin-user-list' });
      ctx.vhostList = el('datalist', { id: 'admin-vhost-list' });

      const uName = el('input', { testid: 'user-form-name', required: true });
      const uPassword = el('input', { testid: 'user-form-password', type: 'password', required: true, autocomplete: 'new-password' });
      const uTags = el('input', { testid: 'user-form-tags', placeholder: 'administrator, management' });
      const userForm = adminForm('user-form', 'Add or update a user',
        [['Name', uName], ['Password', uPassword], ['Tags (comma-separated)', uTags]], 'Save user',
        () => adminAction(ctx.result, `User "${uName.value}" saved`, async () => {
          const tags = uTags.value.split(',').map((t) => t.trim()).filter(Boolean);
          await request('PUT', `/api/users/${enc(uName.value)}`, { password: uPassword.value, tags });
          uPassword.value = '';
        }));

      const pUser = el('input', { testid: 'permission-form-user', list: 'admin-user-list', required: true });
      const pVhost = el('input', { testid: 'permission-form-vhost', list: 'admin-vhost-list', value: '/', required: true });
      const regex = (testid) => el('input', { testid, value: '.*' });
      const [pConf, pWrite, pRead] = ['configure', 'write', 'read'].map((k) => regex(`permission-form-${k}`));
      const permForm = adminForm('permission-form', 'Set permissions',
        [['User', pUser], ['Virtual host', pVhost], ['Configure regexp', pConf], ['Write regexp', pWrite], ['Read regexp', pRead]],
        'Set permission',
        () => adminAction(ctx.result, `Permissions of "${pUser.value}" on "${pVhost.value}" set`, () =>
          request('PUT', `/api/permissions/${enc(pVhost.value)}/${enc(pUser.value)}`,
            { configure: pConf.value, write: pWrite.value, read: pRead.value })));

      const vName = el('input', { testid: 'vhost-form-name', required: true });
      const vhostForm = adminForm('vhost-form', 'Add a virtual host', [['Name', vName]], 'Add virtual host',
        () => adminAction(ctx.result, `Virtual host "${vName.value}" added`, async () => {
          await request('PUT', `/api/vhosts/${enc(vName.value)}`, {});
          vName.value = '';
        }));

      main.append(el('h1', { text: 'Admin' }), ctx.result, ctx.userList, ctx.vhostList,
        el('h2', { text: 'Users' }), users.table, userForm,
        el('h2', { text: 'Permissions' }), perms.table, permForm,
        el('h2', { text: 'Virtual hosts' }), vhosts.table, vhostForm);
      return ctx;
    },
    async refresh(ctx, live) {
      const [users, perms, vhosts] = await Promise.all([
        api('GET', '/api/users'), api('GET', '/api/permissions'), api('GET', '/api/vhosts')]);
      if (!live()) return;
      const access = {};
      for (const p of perms || []) (access[p.user] = access[p.user] || []).push(p.vhost);
      syncRows(ctx.users, (users || []).slice().sort((a, b) => String(a.name).localeCompare(String(b.name))),
        (u) => String(u.name),
        (u) => {
          const tr = buildRow('user-row', [{ id: 'user-name' }, { id: 'user-tags' }, { id: 'user-vhosts' }, { id: 'user-actions', cls: 'actions' }],
            { dataset: { name: u.name } });
          tr.cells_['user-actions'].append(deleteButton('user-delete', `Delete user "${u.name}"?`, ctx.result,
            `User "${u.name}" deleted`, `/api/users/${enc(u.name)}`));
          return tr;
        },
        (tr, u) => {
          setText(tr.cells_['user-name'], u.name);
          setText(tr.cells_['user-tags'], (Array.isArray(u.tags) ? u.tags : []).join(', '));
          setText(tr.cells_['user-vhosts'], (access[u.name] || []).sort().join(', ') || 'No access');
        }, 'No users');
      syncRows(ctx.perms, (perms || []).slice(), (p) => `${p.user}|${p.vhost}`,
        (p) => {
          const tr = buildRow('permission-row', ['user', 'vhost', 'configure', 'write', 'read', 'actions']
            .map((k) => ({ id: `permission-${k}`, cls: k === 'actions' ? 'actions' : null })), { dataset: { user: p.user, vhost: p.vhost } });
          tr.cells_['permission-actions'].append(deleteButton('permission-delete', `Clear the permissions of "${p.user}" on "${p.vhost}"?`,
            ctx.result, `Permissions of "${p.user}" on "${p.vhost}" cleared`, `/api/permissions/${enc(p.vhost)}/${enc(p.user)}`));
          return tr;
        },
        (tr, p) => {
          for (const k of ['user', 'vhost', 'configure', 'write', 'read']) setText(tr.cells_[`permission-${k}`], p[k]);
        }, 'No permissions');
      syncRows(ctx.vhosts, (vhosts || []).slice().sort((a, b) => String(a.name).localeCompare(String(b.name))),
        (v) => String(v.name),
        (v) => {
          const tr = buildRow('admin-vhost-row', [{ id: 'admin-vhost-name' }, { id: 'admin-vhost-messages', num: true }, { id: 'admin-vhost-actions', cls: 'actions' }],
            { dataset: { name: v.name } });
          tr.cells_['admin-vhost-actions'].append(deleteButton('vhost-delete',
            `Delete virtual host "${v.name}" with all its queues, exchanges and messages? Its connections are closed.`,
            ctx.result, `Virtual host "${v.name}" deleted`, `/api/vhosts/${enc(v.name)}`));
          return tr;
        },
        (tr, v) => {
          setText(tr.cells_['admin-vhost-name'], v.name);
          setNumber(tr.cells_['admin-vhost-messages'], v.messages);
        }, 'No virtual hosts');
      for (const [list, items] of [[ctx.userList, users], [ctx.vhostList, vhosts]]) {
        const names = (items || []).map((i) => String(i.name));
        if (list.dataset.names !== names.join('\n')) {
          list.dataset.names = names.join('\n');
          clear(list);
          for (const n of names) list.append(el('option', { value: n }));
        }
      }
    },
  };

  // ------------------------------------------------------------------ router and refresh

  function parseHash() {
    const parts = location.hash.replace(/^#\/?/, '').split('/').filter((p) => p !== '');
    let decoded;
    try {
      decoded = parts.map(decodeURIComponent);
    } catch (_) {
      decoded = [];
    }
    if (decoded[0] === 'queues' && decoded.length >= 3) return { name: 'queue', params: decoded.slice(1, 3) };
    const name = decoded[0] && decoded[0] !== 'queue' && pages[decoded[0]] ? decoded[0] : 'overview';
    return { name, params: decoded.slice(1) };
  }

  function route() {
    const loggedIn = Boolean(sessionStorage.getItem(AUTH_KEY));
    const { name, params } = parseHash();
    if (!loggedIn && name !== 'login') {
      showLogin(state.loginMessage);
      return;
    }
    if (loggedIn && name === 'login') {
      location.hash = '#/overview';
      return;
    }
    state.generation += 1;
    clearTimeout(state.timer);
    showBanner(null);
    renderSession();
    const def = pages[name];
    const main = $('#main');
    clear(main);
    main.dataset.page = name;
    document.title = `${def.title} · mqbridge`;
    for (const a of document.querySelectorAll('nav a')) {
      a.classList.toggle('active', a.dataset.page === name || (name === 'queue' && a.dataset.page === 'queues'));
    }
    const ctx = def.mount(main, params);
    state.page = { name, params, ctx, def };
    if (def.refresh) refreshNow();
  }

  // Refresh the current page now, then every state.interval ms; a refresh never overlaps
  // the previous one, and an answer that arrives after navigation is dropped.
  async function refreshNow() {
    const page = state.page;
    if (!page || !page.def.refresh) return;
    const generation = state.generation;
    const live = () => generation === state.generation;
    clearTimeout(state.timer);
    if (document.hidden) return; // a background tab polls nothing; visibilitychange resumes
    try {
      await page.def.refresh(page.ctx, live);
      if (live()) {
        showBanner(null);
        const stamp = $('[data-testid="last-refresh"]');
        setText(stamp, 'updated ' + new Date().toLocaleTimeString());
        stamp.dataset.at = String(Date.now());
      }
    } catch (e) {
      if (live() && e.status !== 401) showBanner(`Could not refresh: ${e.message}`);
    }
    if (live() && state.interval > 0 && sessionStorage.getItem(AUTH_KEY)) {
      clearTimeout(state.timer);
      state.timer = setTimeout(refreshNow, state.interval);
    }
  }

  function start() {
    const interval = $('#refresh-interval');
    const saved = sessionStorage.getItem('mqbridge.refresh');
    if (saved !== null && Array.from(interval.options).some((o) => o.value === saved)) interval.value = saved;
    state.interval = Number(interval.value);
    interval.addEventListener('change', () => {
      state.interval = Number(interval.value);
      sessionStorage.setItem('mqbridge.refresh', interval.value);
      refreshNow();
    });
    $('#logout').addEventListener('click', () => {
      sessionStorage.removeItem(AUTH_KEY);
      sessionStorage.removeItem(USER_KEY);
      sessionStorage.removeItem('mqbridge.after-login');
      state.loginMessage = null;
      clearTimeout(state.timer);
      location.hash = '#/login';
    });
    window.addEventListener('hashchange', route);
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden) refreshNow();
    });
    route();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
