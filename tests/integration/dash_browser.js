/*
 * dash_browser.js - drive the dashboard in headless Chromium (playwright-core).
 *
 *   node dash_browser.js CONFIG.json
 *
 * CONFIG: {base, token, telnet_port, shots, xss: [strings], tls_session: {id, t}}
 * Prints one JSON object: {ok, failures: [...], notes: [...]} and exits 0 either way
 * (the Python case asserts).  Checks:
 *   - without credentials: the page is the login form (401) and /api/ answers 401
 *   - login through the form; every view renders (body[data-ready]); charts have
 *     painted canvases; screenshots of each view
 *   - the live feed shows a login made while the page is open
 *   - every planted XSS string is visible as text, window.__xss stays undefined,
 *     no dialog opens and no CSP violation is reported
 */
'use strict';
const fs = require('fs');
const net = require('net');
const path = require('path');

const cfg = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const webdeps = process.env.HANIPO_WEBDEPS_DIR || '/var/lib/hanipo/webdeps';
const { chromium } = require(path.join(webdeps, 'node_modules', 'playwright-core'));

const failures = [];
const notes = [];
function fail(msg) { failures.push(msg); }

function telnetLogin(port, user, pass) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    const lines = [user, pass, 'exit'];
    let i = 0;
    const timer = setInterval(() => {
      if (i < lines.length) s.write(lines[i++] + '\r\n');
      else { clearInterval(timer); s.end(); resolve(); }
    }, 400);
    s.on('data', () => {});
    s.on('error', () => { clearInterval(timer); resolve(); });
  });
}

async function paintedCanvases(page) {
  return page.evaluate(() => {
    const out = [];
    for (const c of document.querySelectorAll('.chart canvas')) {
      const ctx = c.getContext('2d');
      if (!ctx || !c.width || !c.height) { out.push(0); continue; }
      const d = ctx.getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 3; i < d.length; i += 16) if (d[i] !== 0) n++;
      out.push(n);
    }
    return out;
  });
}

async function view(page, name, hash) {
  await page.evaluate((h) => { window.location.hash = h; }, hash);
  await page.waitForSelector('body[data-ready="' + name + '"]', { timeout: 20000 });
  const err = await page.evaluate(() => {
    const e = document.getElementById('error');
    return e && !e.hidden ? e.textContent : '';
  });
  if (err) fail(name + ': the page shows an error: ' + err);
}

(async () => {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium', headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  const ctx = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  /* the test hook: an XSS that ran would set window.__xss or open a dialog */
  await ctx.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__csp.push(e.violatedDirective + ' ' + e.blockedURI);
    });
  });
  const page = await ctx.newPage();
  const dialogs = [];
  page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss().catch(() => {}); });
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));

  /* 1. no credentials */
  let r = await page.goto(cfg.base + '/');
  if (r.status() !== 401) fail('GET / without credentials: status ' + r.status());
  if (!(await page.$('form[action="/login"] input[name="secret"]'))) fail('no login form without credentials');
  r = await page.goto(cfg.base + '/api/overview');
  if (r.status() !== 401) fail('GET /api/overview without credentials: status ' + r.status());
  await page.goto(cfg.base + '/login');
  await page.fill('#secret', 'wrong-token-000');
  await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')]);
  r = await page.goto(cfg.base + '/api/status');
  if (r.status() !== 401) fail('a wrong token logged in');

  /* 2. log in through the form */
  await page.goto(cfg.base + '/login');
  await page.fill('#secret', cfg.token);
  await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')]);
  await page.waitForSelector('body[data-ready="overview"]', { timeout: 20000 });
  fs.mkdirSync(cfg.shots, { recursive: true });

  /* 3. overview + live feed */
  await page.selectOption('#range-last', '1h');
  await page.waitForSelector('body[data-ready="overview"]', { timeout: 20000 });
  await page.waitForFunction(() => {
    const h = document.querySelector('#feed');
    return h && h.parentElement.textContent.includes('connected');
  }, null, { timeout: 15000 });
  const marker = 'live' + Date.now().toString(36);
  await telnetLogin(cfg.telnet_port, marker, 'feedpass');
  try {
    await page.waitForFunction((m) => document.getElementById('feed').textContent.includes(m), marker,
      { timeout: 15000 });
    notes.push('live feed showed ' + marker);
  } catch (e) {
    fail('live feed did not show the login made during the test');
  }
  const ov = await paintedCanvases(page);
  notes.push('overview canvases painted pixels: ' + ov.join(','));
  if (ov.length < 4 || ov.some((n) => n < 50)) fail('overview: charts not drawn: ' + ov.join(','));
  await page.screenshot({ path: path.join(cfg.shots, 'overview.png'), fullPage: true });

  /* 4. the other views */
  const seen = {};
  for (const name of ['credentials', 'sessions', 'payloads', 'web', 'fingerprints']) {
    await view(page, name, '#' + name);
    seen[name] = await page.evaluate(() => document.body.innerText);
    if (name === 'web') {
      const c = await paintedCanvases(page);
      if (!c.length || c.some((n) => n < 50)) fail('web: chart not drawn: ' + c.join(','));
    }
    await page.screenshot({ path: path.join(cfg.shots, name + '.png'), fullPage: true });
  }
  /* a session search by a planted username */
  await view(page, 'sessions', '#sessions');
  await page.fill('#search-username', cfg.xss_user);
  await page.click('#search-form button[type="submit"]');
  await page.waitForSelector('body[data-ready="sessions"]');
  await page.waitForFunction(() => document.querySelectorAll('#main table tbody tr').length > 0, null, { timeout: 10000 })
    .catch(() => fail('search by an XSS username found no session'));
  await page.screenshot({ path: path.join(cfg.shots, 'sessions-search.png'), fullPage: true });

  /* 5. session pages (with the replay) */
  for (const [i, s] of cfg.sessions.entries()) {
    await view(page, 'session', '#session/' + s.id + '/' + s.t);
    seen['session ' + s.id] = await page.evaluate(() => document.body.innerText);
    if (s.cast) {
      await page.waitForSelector('#player .ap-player, #player .ap-wrapper', { timeout: 15000 })
        .catch(() => fail('session ' + s.id + ': asciinema player not shown'));
    }
    await page.screenshot({ path: path.join(cfg.shots, 'session-' + (i + 1) + '.png'), fullPage: true });
  }

  /* 6. XSS: shown as text, never run */
  const all = Object.values(seen).join('\n') + await page.evaluate(() => document.body.innerText);
  for (const x of cfg.xss_visible) if (!all.includes(x)) fail('planted value not shown as text: ' + x);
  const hook = await page.evaluate(() => ({ xss: typeof window.__xss, csp: window.__csp }));
  if (hook.xss !== 'undefined') fail('window.__xss was set: an XSS payload ran');
  if (dialogs.length) fail('a dialog opened: ' + dialogs.join(' | '));
  if (hook.csp.length) fail('CSP violations: ' + hook.csp.join(' | '));
  if (pageErrors.length) fail('page errors: ' + pageErrors.join(' | '));
  await browser.close();
  process.stdout.write(JSON.stringify({ ok: failures.length === 0, failures, notes }) + '\n');
})().catch((e) => {
  process.stdout.write(JSON.stringify({ ok: false, failures: failures.concat(['exception: ' + e.stack]), notes }) + '\n');
  process.exit(0);
});
