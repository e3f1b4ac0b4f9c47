/*
 * The approvals page: one HTML file, one script, one style sheet, served by approvals-server.ts.
 * Hand-written vanilla HTML and JS: a list, a timeline and two buttons need no framework, no build
 * step and no third-party code running next to a viewer's token. Everything is drawn with
 * textContent (never innerHTML), so nothing a record holds can become markup or script.
 */

export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Converge: held drifts</title>
<link rel="stylesheet" href="/app.css">
<script src="/app.js" defer></script>
</head>
<body>
<header>
<h1>Held drifts <span id="env"></span></h1>
<p id="viewer">Not signed in.</p>
</header>
<section id="signin">
<form id="token-form" autocomplete="off">
<label for="token">Your Kubernetes token</label>
<input id="token" type="password" spellcheck="false" placeholder="kubectl create token … or the token in your kubeconfig">
<button type="submit" id="use-token">Use token</button>
<button type="button" id="forget-token">Forget token</button>
</form>
<p class="hint">The token stays in this tab (sessionStorage) and goes only to this page's API, which checks it with the cluster (TokenReview, SubjectAccessReview) and writes your decision with it.</p>
</section>
<p id="message" role="alert"></p>
<section>
<h2>Waiting for a decision</h2>
<div id="held"><p class="empty">Nothing loaded yet.</p></div>
</section>
<section>
<h2>Recent drifts</h2>
<div id="recent"><p class="empty">Nothing loaded yet.</p></div>
</section>
</body>
</html>
`;

export const PAGE_CSS = `body { font-family: system-ui, sans-serif; margin: 0 auto; max-width: 70rem; padding: 1rem; color: #1b1b1b; }
h1 span { font-weight: normal; color: #555; }
form { display: flex; gap: .5rem; flex-wrap: wrap; align-items: center; }
input[type=password] { flex: 1; min-width: 20rem; padding: .3rem; }
.hint, .empty { color: #555; font-size: .9rem; }
#message { min-height: 1.2rem; font-weight: bold; }
#message.error { color: #a00000; }
#message.ok { color: #006400; }
article { border: 1px solid #ccc; border-radius: .4rem; padding: .6rem 1rem; margin: .8rem 0; }
article.held { border-color: #c48a00; background: #fffaf0; }
article h3 { margin: .2rem 0; font-size: 1rem; }
.severity-high { color: #a00000; }
.severity-medium { color: #8a5a00; }
table { border-collapse: collapse; width: 100%; font-size: .85rem; }
td, th { border: 1px solid #ddd; padding: .2rem .4rem; text-align: left; vertical-align: top; }
td code { white-space: pre-wrap; word-break: break-all; }
ol.timeline { font-size: .85rem; padding-left: 1.4rem; }
.decide { display: flex; gap: .5rem; margin-top: .5rem; }
.decide input { flex: 1; padding: .3rem; }
`;

export const PAGE_JS = `'use strict';
(() => {
  const KEY = 'converge.approvals.token';
  const $ = (id) => document.getElementById(id);
  const el = (tag, text, cls) => {
    const e = document.createElement(tag);
    if (text !== undefined) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  };
  const token = () => sessionStorage.getItem(KEY) || '';
  const say = (text, ok) => {
    const m = $('message');
    m.textContent = text;
    m.className = text ? (ok ? 'ok' : 'error') : '';
  };

  async function api(method, path, body) {
    const res = await fetch(path, {
      method,
      headers: Object.assign({ Authorization: 'Bearer ' + token() }, body ? { 'Content-Type': 'application/json' } : {}),
      body: body ? JSON.stringify(body) : undefined,
      cache: 'no-store',
      credentials: 'omit',
    });
    let answer = {};
    try { answer = await res.json(); } catch (e) { answer = { error: 'HTTP ' + res.status }; }
    if (!res.ok) throw new Error(answer.error || 'HTTP ' + res.status);
    return answer;
  }

  // An empty string shows as "", so it cannot pass for a missing value.
  const show = (v) => (v === undefined ? '(none)' : typeof v === 'string' && v !== '' ? v : JSON.stringify(v));

  function line(t) {
    const who = t.actor + (t.groups && t.groups.length ? ' (' + t.groups.join(', ') + ')' : '');
    const base = t.event.replace(/-\\d+$/, '');
    const verb = base === 'approved' || base === 'rejected' ? base + ' by ' + who : t.event + ' (' + who + ')';
    const extra = [t.outcome, t.detail].filter(Boolean).join('; ');
    return t.at + ' ' + verb + (extra ? ': ' + extra : '');
  }

  function drift(d) {
    const a = el('article', undefined, d.held ? 'held' : '');
    a.dataset.driftId = d.id;
    const o = d.object;
    a.append(el('h3', d.id + ' ' + o.kind + ' ' + (o.namespace ? o.namespace + '/' : '') + o.name));
    const meta = el('p');
    meta.append(el('span', d.severity, 'severity-' + d.severity));
    meta.append(' ' + d.change + ' by ' + d.who + '; rule ' + d.rule + ', action ' + d.action + '; detected ' + d.detectedAt);
    a.append(meta);
    if (d.fields && d.fields.length) {
      const table = el('table', undefined, 'diff');
      const head = el('tr');
      ['field', 'Git', 'live'].forEach((h) => head.append(el('th', h)));
      table.append(head);
      d.fields.forEach((f) => {
        const row = el('tr');
        row.append(el('td', f.path));
        [f.from, f.to].forEach((v) => { const td = el('td'); td.append(el('code', show(v))); row.append(td); });
        table.append(row);
      });
      a.append(table);
    }
    const ol = el('ol', undefined, 'timeline');
    d.timeline.forEach((t) => ol.append(el('li', line(t))));
    a.append(ol);
    if (d.held) {
      const form = el('div', undefined, 'decide');
      const reason = el('input');
      reason.placeholder = 'reason (for the audit record)';
      reason.setAttribute('aria-label', 'reason for ' + d.id);
      reason.className = 'reason';
      const approve = el('button', 'Approve', 'approve');
      const reject = el('button', 'Reject', 'reject');
      const act = (verb) => async () => {
        approve.disabled = reject.disabled = true;
        try {
          const r = await api('POST', '/api/drifts/' + encodeURIComponent(d.id) + '/' + verb, { reason: reason.value });
          say(r.message, true);
        } catch (e) {
          say(e.message, false);
        } finally {
          approve.disabled = reject.disabled = false;
        }
        await load();
      };
      approve.addEventListener('click', act('approve'));
      reject.addEventListener('click', act('reject'));
      form.append(reason, approve, reject);
      a.append(form);
    }
    return a;
  }

  function fill(id, drifts, empty) {
    const box = $(id);
    box.replaceChildren(...(drifts.length ? drifts.map(drift) : [el('p', empty, 'empty')]));
  }

  let loading = false;
  let shown = '';
  async function load() {
    if (!token() || loading) return;
    loading = true;
    try {
      const r = await api('GET', '/api/drifts');
      // Redrawn only on a change, so a reason being typed survives the refresh.
      const text = JSON.stringify(r);
      if (text === shown) return;
      shown = text;
      $('env').textContent = r.environment + ' (records in ' + r.namespace + ')';
      $('viewer').textContent = 'Signed in as ' + r.viewer.username + (r.viewer.groups.length ? ' (' + r.viewer.groups.join(', ') + ')' : '');
      fill('held', r.held, 'No drift is waiting for a decision.');
      fill('recent', r.recent, 'No recent drift.');
    } catch (e) {
      say(e.message, false);
    } finally {
      loading = false;
    }
  }

  document.addEventListener('DOMContentLoaded', () => {
    $('token-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const t = $('token').value.trim();
      $('token').value = '';
      if (t) sessionStorage.setItem(KEY, t);
      shown = '';
      say('', true);
      load();
    });
    $('forget-token').addEventListener('click', () => {
      sessionStorage.removeItem(KEY);
      shown = '';
      $('viewer').textContent = 'Not signed in.';
      fill('held', [], 'Nothing loaded yet.');
      fill('recent', [], 'Nothing loaded yet.');
      say('', true);
    });
    load();
    setInterval(load, 3000);
  });
})();
`;
