/*
 * app.js - the hanipo dashboard (docs/api.md).
 *
 * Everything shown here comes from attackers: usernames, passwords,
 * commands, URLs, User-Agents, SNI names.  So the DOM is only ever built with
 * createElement + textContent (the el() helper below); no innerHTML, no
 * insertAdjacentHTML, no attribute taken from data except hrefs built here
 * from checked hex ids.  Charts draw on canvas with the tooltip in
 * 'richText' mode (canvas too), so ECharts never turns a value into HTML.
 * The server's Content-Security-Policy forbids inline script on top.
 */
'use strict';

(function () {
  const main = document.getElementById('main');
  const errorBox = document.getElementById('error');
  const HAVE_CHARTS = typeof window.echarts !== 'undefined';
  let charts = [];
  let feed = null;           /* the EventSource of the overview's live feed */
  let worldReady = null;     /* promise: the world map registered with ECharts */

  /* ---- DOM helpers: text only -------------------------------------------- */

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v);
    }
    for (const c of children) {
      if (c === null || c === undefined) continue;
      e.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)));
    }
    return e;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function fmtTime(sec) {
    if (sec === null || sec === undefined) return '';
    return new Date(sec * 1000).toISOString().replace('T', ' ').slice(0, 19);
  }

  function fmtUs(us) {
    return new Date(us / 1000).toISOString().replace('T', ' ').slice(0, 23);
  }

  function str(v) {
    if (v === null || v === undefined) return '';
    if (Array.isArray(v)) return v.join(', ');
    return String(v);
  }

  const HEX64 = /^[0-9a-f]{64}$/;
  const HEX12 = /^[0-9a-f]{12}$/;

  function showError(msg) {
    errorBox.textContent = msg;
    errorBox.hidden = !msg;
  }

  /* ---- the API --------------------------------------------------------------- */

  /* A fleet store (ClickHouse): /api/status lists its sensors; the selector narrows every view. */
  let fleet = false;

  function sensorParam() {
    const s = document.getElementById('sensor').value;
    return fleet && s ? { sensor: s } : {};
  }

  async function loadSensors() {
    try {
      const st = await api('status');
      fleet = !!st.fleet;
      if (!fleet) return;
      const sel = document.getElementById('sensor');
      for (const name of st.sensors || []) sel.appendChild(el('option', { value: str(name), text: str(name) }));
      document.getElementById('sensor-box').hidden = false;
    } catch (e) { /* the views report errors themselves */ }
  }

  function rangeParams() {
    const sel = document.getElementById('range-last').value;
    if (sel !== 'custom') return Object.assign({ last: sel }, sensorParam());
    const p = sensorParam();
    const f = document.getElementById('range-from').value;
    const t = document.getElementById('range-to').value;
    if (f) p.from = f;
    if (t) p.to = t;
    if (!f) p.last = '1d';
    return p;
  }

  async function api(path, params) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params || {}))
      if (v !== undefined && v !== null && v !== '') q.set(k, v);
    const qs = q.toString();
    const r = await fetch('/api/' + path + (qs ? '?' + qs : ''), { credentials: 'same-origin' });
    if (r.status === 401) {
      window.location.assign('/login');
      throw new Error('not logged in');
    }
    const body = await r.json();
    if (!r.ok) throw new Error(body.error || ('HTTP ' + r.status));
    return body;
  }

  /* ---- charts ---------------------------------------------------------------- */

  function chartBox(title, cls) {
    const box = el('div', { class: 'chart ' + (cls || '') });
    return [el('section', { class: 'card' }, el('h2', { text: title }), box), box];
  }

  function makeChart(box, option) {
    if (!HAVE_CHARTS) {
      box.appendChild(el('p', { class: 'muted', text: 'charts unavailable (run tools/webdeps.sh)' }));
      return null;
    }
    const c = window.echarts.init(box, null, { renderer: 'canvas' });
    option.tooltip = Object.assign({ renderMode: 'richText', confine: true }, option.tooltip || {});
    option.animation = false;
    c.setOption(option);
    charts.push(c);
    return c;
  }

  function disposeCharts() {
    for (const c of charts) c.dispose();
    charts = [];
  }

  window.addEventListener('resize', () => { for (const c of charts) c.resize(); });

  function loadWorld() {
    if (!worldReady) {
      worldReady = fetch('/vendor/world.geo.json', { credentials: 'same-origin' })
        .then((r) => (r.ok ? r.json() : null))
        .then((g) => { if (g && HAVE_CHARTS) window.echarts.registerMap('world', g); return !!g; })
        .catch(() => false);
    }
    return worldReady;
  }

  /* ---- tables ---------------------------------------------------------------- */

  /* cols: [{title, get(row) -> string | Node, cls}] */
  function table(cols, rows, empty) {
    const head = el('tr', null, ...cols.map((c) => el('th', { text: c.title })));
    const body = el('tbody');
    for (const r of rows) {
      body.appendChild(el('tr', null, ...cols.map((c) => {
        const v = c.get(r);
        return el('td', { class: c.cls || '' }, typeof v === 'object' && v !== null ? v : str(v));
      })));
    }
    const t = el('table', null, el('thead', null, head), body);
    if (!rows.length) return el('div', null, t, el('p', { class: 'muted', text: empty || 'nothing in this range' }));
    return t;
  }

  function card(title, ...children) {
    return el('section', { class: 'card' }, el('h2', { text: title }), ...children);
  }

  const countCols = [
    { title: 'count', get: (r) => r.n, cls: 'num' },
    { title: 'sources', get: (r) => r.sources, cls: 'num' },
  ];

  function sessionsLink(text, params) {
    const a = el('a', { href: '#sessions', class: 'search-link', text: text });
    a.addEventListener('click', () => { pendingSearch = params; });
    return a;
  }

  let pendingSearch = null;

  /* ---- overview ------------------------------------------------------------- */

  function feedLine(ev) {
    const t = ev.timestamp ? ev.timestamp.replace('T', ' ').slice(11, 19) : '';
    const sess = ev.session && HEX12.test(ev.session) ? ev.session : null;
    return el('li', null,
      el('span', { class: 'ts', text: t }), ' ',
      el('span', { class: 'eid', text: str(ev.eventid) }), ' ',
      el('span', { class: 'ip', text: str(ev.src_ip) }),
      ev.src_cc ? el('span', { class: 'cc', text: ' ' + str(ev.src_cc) }) : null,
      ev.dst_port ? el('span', { class: 'port', text: ' :' + str(ev.dst_port) }) : null, ' ',
      el('span', { class: 'detail', text: str(ev.detail) }),
      sess ? el('a', { href: '#session/' + sess, class: 'feed-session', text: ' ' + sess }) : null);
  }

  function startFeed(list, status) {
    stopFeed();
    feed = new EventSource('/api/stream');
    feed.onopen = () => { status.textContent = 'connected'; };
    feed.onerror = () => { status.textContent = 'reconnecting...'; };
    feed.onmessage = (m) => {
      let ev;
      try { ev = JSON.parse(m.data); } catch (e) { return; }
      list.insertBefore(feedLine(ev), list.firstChild);
      while (list.childNodes.length > 200) list.removeChild(list.lastChild);
    };
  }

  function stopFeed() {
    if (feed) feed.close();
    feed = null;
  }

  async function viewOverview() {
    const d = await api('overview', rangeParams());
    const tot = d.totals;
    main.appendChild(el('section', { class: 'totals' },
      ...[['events', tot.events], ['connections', tot.connects], ['logins', tot.logins], ['sources', tot.sources]]
        .map(([k, v]) => el('div', { class: 'total' }, el('span', { class: 'big', text: str(v) }), el('span', { text: k })))));
    const [tlCard, tlBox] = chartBox('Events over time per protocol', 'wide');
    main.appendChild(tlCard);
    const grid = el('div', { class: 'grid' });
    main.appendChild(grid);
    const [mapCard, mapBox] = chartBox('Sources by country', 'map');
    const [pieCard, pieBox] = chartBox('Top countries');
    const [portCard, portBox] = chartBox('Top destination ports');
    grid.append(mapCard, pieCard, portCard);
    const status = el('span', { class: 'muted', text: 'connecting...' });
    const list = el('ul', { id: 'feed', class: 'feed' });
    main.appendChild(el('section', { class: 'card' }, el('h2', null, 'Live feed ', status), list));
    startFeed(list, status);

    const times = d.timeline.t.map((s) => fmtTime(s).slice(5, 16));
    const series = Object.entries(d.timeline.series).map(([proto, vals]) => ({
      name: proto, type: 'line', stack: 'all', areaStyle: {}, symbol: 'none', data: vals,
    }));
    makeChart(tlBox, {
      tooltip: { trigger: 'axis' }, legend: { type: 'scroll' },
      grid: { left: 50, right: 20, top: 40, bottom: 30 },
      xAxis: { type: 'category', data: times }, yAxis: { type: 'value' }, series: series,
    });
    const cc = d.countries;
    const top10 = cc.slice(0, 10).map((r) => ({ name: str(r.name || r.key) || 'unknown', value: r.n }));
    const rest = cc.slice(10).reduce((a, r) => a + r.n, 0);
    if (rest) top10.push({ name: 'other', value: rest });
    makeChart(pieBox, {
      tooltip: { trigger: 'item' },
      series: [{ type: 'pie', radius: ['30%', '65%'], data: top10, label: { formatter: '{b}' } }],
    });
    makeChart(portBox, {
      tooltip: { trigger: 'axis' }, grid: { left: 170, right: 20, top: 10, bottom: 30 },
      xAxis: { type: 'value' },
      // the port and, from data/knowledge/ports.tsv, what usually listens there (cut short)
      yAxis: { type: 'category', inverse: true,
        data: d.ports.map((r) => str(r.key) + (r.service ? ' ' + str(r.service).slice(0, 20) : '')) },
      series: [{ type: 'bar', data: d.ports.map((r) => r.n) }],
    });
    if (await loadWorld()) {
      const max = cc.reduce((a, r) => Math.max(a, r.n), 1);
      makeChart(mapBox, {
        tooltip: { trigger: 'item' },
        visualMap: { min: 0, max: max, calculable: true, left: 'left', bottom: 0, inRange: { color: ['#e0ecf8', '#c0392b'] } },
        series: [{ type: 'map', map: 'world', nameProperty: 'cc', roam: true,
          data: cc.map((r) => ({ name: str(r.key), value: r.n })) }],
      });
    } else {
      mapBox.appendChild(table([{ title: 'country', get: (r) => str(r.name || r.key) }, ...countCols], cc));
    }
    if (d.fleet) {
      const num = (title, key) => ({ title: title, get: (r) => r[key], cls: 'num' });
      main.appendChild(card('Per sensor', table([{ title: 'sensor', get: (r) => r.sensor },
        { title: 'sensor country', get: (r) => r.sensor_cc }, num('events', 'events'), num('connections', 'connects'),
        num('logins', 'logins'), num('sources', 'sources')], d.sensors)));
      main.appendChild(card('Source country x sensor country', table([{ title: 'source country', get: (r) => r.cc },
        { title: 'sensor country', get: (r) => r.sensor_cc }, num('connections', 'connections'),
        num('sources', 'sources'), num('sensors', 'sensors')], d.country_pairs.slice(0, 50))));
    }
  }

  /* ---- credentials ------------------------------------------------------------ */

  /* A word cloud as text: font size by log(count); every word a text node. */
  function cloud(rows, param) {
    const box = el('div', { class: 'cloud' });
    if (!rows.length) return el('p', { class: 'muted', text: 'nothing in this range' });
    const max = Math.log(rows[0].n + 1), min = Math.log(rows[rows.length - 1].n + 1);
    const shuffled = rows.slice(0, 60).sort((a, b) => (str(a.key) < str(b.key) ? -1 : 1));
    for (const r of shuffled) {
      const w = max > min ? (Math.log(r.n + 1) - min) / (max - min) : 1;
      const a = sessionsLink(str(r.key), { [param]: str(r.key) });
      a.classList.add('word');
      a.style.fontSize = (0.8 + 1.8 * w).toFixed(2) + 'em';   /* CSSOM: allowed by the CSP */
      a.title = r.n + ' attempts';
      box.appendChild(a);
      box.appendChild(document.createTextNode(' '));
    }
    return box;
  }

  async function viewCredentials() {
    const d = await api('credentials', rangeParams());
    const grid = el('div', { class: 'grid' });
    main.appendChild(grid);
    grid.append(card('Usernames', cloud(d.username, 'username')), card('Passwords', cloud(d.password, 'password')));
    const okCol = { title: 'successful', get: (r) => r.ok, cls: 'num' };
    grid.append(
      card('Top usernames', table([{ title: 'username', get: (r) => sessionsLink(str(r.key), { username: str(r.key) }) },
        ...countCols, okCol], d.username.slice(0, 25))),
      card('Top passwords', table([{ title: 'password', get: (r) => sessionsLink(str(r.key), { password: str(r.key) }) },
        ...countCols, okCol], d.password.slice(0, 25))));
    const pairCols = [
      { title: 'username', get: (r) => str(r.username) }, { title: 'password', get: (r) => str(r.password) },
      ...countCols, okCol,
      { title: 'device (default credentials of)', get: (r) => str(r.device) },
      { title: 'botnets', get: (r) => str(r.botnets) },
      { title: 'first seen', get: (r) => fmtTime(r.first) },
    ];
    main.appendChild(card('Username / password pairs', table(pairCols, d.pair.slice(0, 50))));
    main.appendChild(card('HTTP credentials (Basic auth, login forms)', table(pairCols, d.http_cred.slice(0, 50))));
  }

  /* ---- sessions -------------------------------------------------------------- */

  const SEARCH_FIELDS = ['ip', 'cc', 'protocol', 'username', 'password', 'command'];
  let search = {};
  let searchOffset = 0;

  async function viewSessions() {
    if (pendingSearch) { search = pendingSearch; searchOffset = 0; pendingSearch = null; }
    const form = el('form', { class: 'search', id: 'search-form' });
    for (const f of SEARCH_FIELDS) {
      const input = el('input', { name: f, id: 'search-' + f, placeholder: f, maxlength: '256' });
      input.value = search[f] || '';
      form.appendChild(el('label', { for: 'search-' + f, text: f }));
      form.appendChild(input);
    }
    form.appendChild(el('button', { type: 'submit', text: 'Search' }));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      search = {};
      for (const f of SEARCH_FIELDS) {
        const v = form.elements[f].value.trim();
        if (v) search[f] = f === 'cc' ? v.toUpperCase() : v;
      }
      searchOffset = 0;
      render();
    });
    main.appendChild(card('Search sessions', form));
    const d = await api('sessions', Object.assign({}, rangeParams(), search, { offset: searchOffset, limit: 50 }));
    const cols = [
      { title: 'start (UTC)', get: (r) => fmtUs(r.ts) },
      { title: 'session', get: (r) => (HEX12.test(r.session)
        ? el('a', { href: '#session/' + r.session + '/' + Number(r.ts), text: r.session }) : str(r.session)) },
      { title: 'protocol', get: (r) => r.protocol },
      { title: 'source', get: (r) => r.src_ip },
      { title: 'country', get: (r) => (r.cc ? str(r.cc) + ' ' + str(r.country) : '') },
      { title: 'AS', get: (r) => r.as_org },
      ...(fleet ? [{ title: 'sensor', get: (r) => r.sensor }] : []),
      { title: 'port', get: (r) => r.dst_port, cls: 'num' },
    ];
    const pager = el('div', { class: 'pager' });
    if (searchOffset > 0)
      pager.appendChild(el('button', { type: 'button', text: 'previous', onclick: () => { searchOffset = Math.max(0, searchOffset - 50); render(); } }));
    if (d.more)
      pager.appendChild(el('button', { type: 'button', text: 'next', onclick: () => { searchOffset += 50; render(); } }));
    main.appendChild(card('Sessions', table(cols, d.sessions, 'no session matches'), pager));
  }

  /* the fields worth a glance per event; the full event is one click away */
  function eventSummary(e) {
    const d = e.data || {};
    const keys = ['username', 'password', 'input', 'method', 'uri', 'user_agent', 'sni', 'ja3', 'ja4', 'hassh',
      'version', 'url', 'shasum', 'reason', 'proto_guess', 'payload'];
    const parts = [];
    for (const k of keys) if (d[k] !== undefined && d[k] !== null) parts.push(k + '=' + str(d[k]).slice(0, 300));
    return parts.join('  ');
  }

  async function viewSession(id, t) {
    if (!HEX12.test(id)) throw new Error('bad session id');
    const params = Object.assign(/^[0-9]{1,20}$/.test(t || '') ? { t: t } : {}, sensorParam());
    const d = await api('session/' + id, params);
    const first = d.events[0] ? d.events[0].data : {};
    main.appendChild(card('Session ' + id,
      el('p', null, str(first.protocol) + ' from ' + str(first.src_ip) + ':' + str(first.src_port) +
        ' to port ' + str(first.dst_port) + (first.src_cc ? ' (' + str(first.src_cc) + ' ' + str(first.src_country) + ')' : ''))));
    if (d.cast) {
      const box = el('div', { id: 'player', class: 'player' });
      main.appendChild(card('Terminal recording', box));
      const q = new URLSearchParams(params).toString();
      if (window.AsciinemaPlayer)
        window.AsciinemaPlayer.create('/api/session/' + id + '/cast' + (q ? '?' + q : ''), box, { fit: 'width', idleTimeLimit: 2, preload: true });
      else
        box.appendChild(el('p', { class: 'muted', text: 'player unavailable (run tools/webdeps.sh)' }));
    }
    const list = el('tbody');
    for (const e of d.events) {
      const pre = el('pre', { class: 'raw', hidden: '' }, JSON.stringify(e.data, null, 2));
      const toggle = el('button', { type: 'button', class: 'small', text: 'raw', onclick: () => { pre.hidden = !pre.hidden; } });
      list.appendChild(el('tr', null, el('td', { text: fmtUs(e.ts) }), el('td', { text: str(e.eventid) }),
        el('td', { class: 'wrap' }, eventSummary(e), pre), el('td', null, toggle)));
    }
    main.appendChild(card('Events', el('table', null,
      el('thead', null, el('tr', null, el('th', { text: 'time' }), el('th', { text: 'event' }), el('th', { text: 'details' }), el('th'))), list)));
  }

  /* ---- payloads ------------------------------------------------------------------ */

  async function showHex(sha, pos, box) {
    clear(box);
    const d = await api('payload/' + sha + '/hex', { pos: pos });
    const rows = d.rows.map((r) => el('tr', null, el('td', { class: 'mono', text: r.off.toString(16).padStart(8, '0') }),
      el('td', { class: 'mono', text: r.hex }), el('td', { class: 'mono', text: r.text })));
    box.appendChild(el('p', null, sha + ' (' + d.size + ' bytes), from offset ' + d.pos));
    box.appendChild(el('table', { class: 'hex' }, el('tbody', null, ...rows)));
    if (d.pos + d.chunk < d.size)
      box.appendChild(el('button', { type: 'button', text: 'next ' + d.chunk + ' bytes', onclick: () => showHex(sha, d.pos + d.chunk, box) }));
  }

  async function viewPayloads() {
    const d = await api('payloads', Object.assign({}, rangeParams(), { limit: 100 }));
    const hexBox = el('div', { id: 'hexview' });
    const cols = [
      { title: 'sha256', cls: 'mono', get: (r) => str(r.key) },
      { title: 'type', get: (r) => r.type },
      { title: 'family', get: (r) => r.family },
      ...countCols,
      { title: 'first seen', get: (r) => fmtTime(r.first) },
      { title: 'last seen', get: (r) => fmtTime(r.last) },
      { title: 'size', get: (r) => (r.stored ? r.size : 'not stored'), cls: 'num' },
      { title: 'file', get: (r) => {
        if (!r.stored || !HEX64.test(r.key)) return '';
        return el('span', null,
          el('a', { href: '/api/payload/' + r.key + '/zip', download: r.key + '.zip', text: 'zip' }), ' ',
          el('button', { type: 'button', class: 'small', text: 'hex', onclick: () => showHex(r.key, 0, hexBox).catch((e) => showError(e.message)) }));
      } },
    ];
    main.appendChild(card('Payloads', el('p', { class: 'muted', text: 'Downloads are zip files encrypted with the password "infected"; payloads are never served raw.' }),
      table(cols, d.payloads)));
    main.appendChild(card('Hex view', hexBox));
  }

  /* ---- web attacks, fingerprints ---------------------------------------------------- */

  async function viewWeb() {
    const d = await api('web', rangeParams());
    const grid = el('div', { class: 'grid' });
    main.appendChild(grid);
    const [clCard, clBox] = chartBox('Attack classes');
    grid.appendChild(clCard);
    makeChart(clBox, {
      tooltip: { trigger: 'axis' }, grid: { left: 140, right: 20, top: 10, bottom: 30 },
      xAxis: { type: 'value' },
      yAxis: { type: 'category', inverse: true, data: d.class.slice(0, 15).map((r) => str(r.key)) },
      series: [{ type: 'bar', data: d.class.slice(0, 15).map((r) => r.n) }],
    });
    grid.appendChild(card('CVEs', table([{ title: 'CVE', get: (r) => r.key },
      { title: 'vulnerability', get: (r) => r.name, cls: 'wrap' }, ...countCols], d.cve)));
    grid.appendChild(card('OWASP IoT', table([{ title: 'category', get: (r) => r.key }, ...countCols], d.owasp)));
    main.appendChild(card('Paths', table([{ title: 'URI', get: (r) => r.key, cls: 'wrap' }, ...countCols], d.uri)));
    main.appendChild(card('User-Agents', table([{ title: 'User-Agent', get: (r) => r.key, cls: 'wrap' }, ...countCols], d.ua)));
    main.appendChild(card('Download URLs', table([{ title: 'URL', get: (r) => r.key, cls: 'wrap' },
      { title: 'type', get: (r) => r.type }, { title: 'attempts', get: (r) => r.n, cls: 'num' },
      { title: 'fetched', get: (r) => r.ok, cls: 'num' }, { title: 'sources', get: (r) => r.sources, cls: 'num' }],
      d.url)));
  }

  async function viewFingerprints() {
    const d = await api('fingerprints', rangeParams());
    const cols = (name) => [
      { title: name, get: (r) => r.key, cls: 'mono' }, { title: 'client', get: (r) => r.client },
      ...countCols,
      { title: 'first seen', get: (r) => fmtTime(r.first) }, { title: 'last seen', get: (r) => fmtTime(r.last) },
    ];
    main.appendChild(card('JA3 (TLS clients)', table(cols('JA3'), d.ja3)));
    main.appendChild(card('JA4 (TLS clients)', table(cols('JA4'), d.ja4)));
    main.appendChild(card('HASSH (SSH clients)', table(cols('HASSH'), d.hassh)));
  }

  /* ---- router ------------------------------------------------------------------------ */

  const VIEWS = {
    overview: viewOverview, credentials: viewCredentials, sessions: viewSessions,
    payloads: viewPayloads, web: viewWeb, fingerprints: viewFingerprints,
  };
  let generation = 0;

  async function render() {
    const gen = ++generation;
    stopFeed();
    disposeCharts();
    clear(main);
    showError('');
    const parts = (window.location.hash || '#overview').slice(1).split('/');
    const name = parts[0] in VIEWS || parts[0] === 'session' ? parts[0] : 'overview';
    for (const a of document.querySelectorAll('#nav a'))
      a.classList.toggle('active', a.dataset.view === name || (name === 'session' && a.dataset.view === 'sessions'));
    document.body.dataset.view = name;
    document.body.dataset.ready = '';
    try {
      if (name === 'session') await viewSession(parts[1] || '', parts[2] || '');
      else await VIEWS[name]();
    } catch (e) {
      if (gen === generation) showError(e.message);
    }
    if (gen === generation) document.body.dataset.ready = name;    /* for tests: the view is drawn */
  }

  document.getElementById('range-last').addEventListener('change', (e) => {
    document.getElementById('range-custom').hidden = e.target.value !== 'custom';
    if (e.target.value !== 'custom') render();
  });
  document.getElementById('range-apply').addEventListener('click', render);
  document.getElementById('sensor').addEventListener('change', render);
  window.addEventListener('hashchange', render);
  loadSensors().then(render);
})();
