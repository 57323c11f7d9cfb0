// The BanActors operator console: plain JavaScript, no library. Everything from the server is put in the page as
// text (textContent), never as HTML.
'use strict';
(() => {
  const api = '/console/api';
  const $ = (id) => document.getElementById(id);
  const state = { token: null, me: null, app: null, page: 1, size: 20, search: '', skew: 0, user: null, userCursor: null, feed: null };

  // ---- the server's clock: times left count down from the server's "now", not the browser's ----
  const serverNow = () => Date.now() + state.skew;
  const noteNow = (now) => { if (typeof now === 'number') state.skew = now - Date.now(); };

  const pad = (n) => String(n).padStart(2, '0');
  function formatTime(ms) {
    if (ms == null) return '';
    const d = new Date(ms);
    return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} UTC`;
  }
  function formatLeft(ms) {
    if (ms <= 0) return 'ended';
    const s = Math.ceil(ms / 1000), d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60), sec = s % 60;
    if (d > 0) return `${d} d ${h} h ${pad(m)} min`;
    if (h > 0) return `${h} h ${pad(m)} min ${pad(sec)} s`;
    return `${m} min ${pad(sec)} s`;
  }
  function formatMinutes(min) {
    if (min % 1440 === 0) return `${min / 1440} day${min === 1440 ? '' : 's'}`;
    if (min % 60 === 0) return `${min / 60} hour${min === 60 ? '' : 's'}`;
    return `${min} minute${min === 1 ? '' : 's'}`;
  }

  // ---- calls ----
  async function call(method, path, body) {
    const headers = { Accept: 'application/json' };
    if (method !== 'GET') {
      headers['Content-Type'] = 'application/json';
      if (state.token) headers['X-CSRF-TOKEN'] = state.token;
    }
    let response;
    try {
      response = await fetch(api + path, { method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body) });
    } catch {
      return { code: 0, errorMessage: 'The server cannot be reached. Check your connection and try again.' };
    }
    let json;
    try { json = await response.json(); } catch { json = { code: response.status, errorMessage: `Unexpected answer (HTTP ${response.status}).` }; }
    if (json.code === 1004 && path !== '/signin') showSignIn(state.me ? 'Your session ended: sign in again.' : '');
    return json;
  }
  async function refreshToken() {
    const answer = await call('GET', '/antiforgery');
    state.token = answer.code === 200 ? answer.token : null;
  }
  const appPath = (rest) => `/apps/${encodeURIComponent(state.app)}${rest}`;

  // ---- messages next to fields ----
  function clearErrors(form) {
    form.querySelectorAll('.error').forEach((e) => { e.textContent = ''; });
    form.querySelectorAll('[aria-invalid]').forEach((e) => e.removeAttribute('aria-invalid'));
  }
  function showError(prefix, answer) {
    const field = answer.field && $(`${prefix}-${answer.field}`);
    const slot = (field && $(`${prefix}-${answer.field}-error`)) || $(`${prefix}-form-error`);
    slot.textContent = answer.errorMessage || 'Something went wrong.';
    if (field) { field.setAttribute('aria-invalid', 'true'); field.focus(); }
  }
  const say = (text) => { $('status').textContent = text; };

  // ---- sign-in ----
  function showSignIn(message) {
    stopFeed();
    state.me = null;
    state.token = null;
    $('session').hidden = true;
    $('console-view').hidden = true;
    $('signin-view').hidden = false;
    say(message || '');
    refreshToken();
    $('signin-name').focus();
  }
  $('signin-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    clearErrors(form);
    if (!state.token) await refreshToken();
    const answer = await call('POST', '/signin', { name: $('signin-name').value, password: $('signin-password').value });
    if (answer.code !== 200) { showError('signin', answer); return; }
    $('signin-password').value = '';
    await refreshToken();
    start(answer);
  });
  $('signout').addEventListener('click', async () => {
    await call('POST', '/signout', {});
    showSignIn('Signed out.');
  });

  function start(me) {
    state.me = me;
    $('operator-name').textContent = me.operator;
    const select = $('app');
    select.replaceChildren(...me.apps.map((key) => new Option(key, key)));
    $('signin-view').hidden = true;
    $('session').hidden = false;
    $('console-view').hidden = false;
    say(me.apps.length === 0 ? 'You may not manage any app: ask for one in BanActors:Console:Operators.' : '');
    const presets = $('presets');
    presets.replaceChildren(...me.presets.map((minutes, i) => {
      const label = document.createElement('label');
      const radio = document.createElement('input');
      radio.type = 'radio'; radio.name = 'preset'; radio.value = String(minutes); radio.id = `preset-${minutes}`;
      radio.checked = i === 0;
      radio.addEventListener('change', () => { $('change-minutes').value = String(minutes); });
      label.append(radio, formatMinutes(minutes));
      return label;
    }));
    $('change-minutes').max = String(me.maxMinutes);
    if (me.apps.length > 0) selectApp(me.apps[0]);
  }
  $('change-minutes').addEventListener('input', () => {
    const value = $('change-minutes').value;
    document.querySelectorAll('input[name=preset]').forEach((r) => { r.checked = r.value === value; });
  });
  $('app').addEventListener('change', () => selectApp($('app').value));
  function selectApp(app) {
    state.app = app;
    state.page = 1;
    $('app').value = app;
    startFeed();
    route();
    loadChart();
  }

  // ---- ban and unban ----
  $('change-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    clearErrors(form);
    const unban = event.submitter && event.submitter.value === 'unban';
    const body = { userIds: $('change-userIds').value, reason: $('change-reason').value };
    if (!unban) body.minutes = $('change-minutes').value;
    const buttons = form.querySelectorAll('button');
    buttons.forEach((b) => { b.disabled = true; });
    const answer = await call('POST', appPath(unban ? '/unbans' : '/bans'), body);
    buttons.forEach((b) => { b.disabled = false; });
    if (answer.code !== 200) { showError('change', answer); return; }
    const who = answer.userIds.join(', ');
    say(unban ? `Unbanned ${who}.` : `Banned ${who} for ${formatMinutes(answer.minutes)}.`);
    $('change-userIds').value = '';
    $('change-reason').value = '';
    refreshView();
  });

  // ---- active bans ----
  $('search-form').addEventListener('submit', (event) => {
    event.preventDefault();
    state.search = $('bans-search').value.trim();
    state.page = 1;
    loadBans();
  });
  $('bans-prev').addEventListener('click', () => { if (state.page > 1) { state.page--; loadBans(); } });
  $('bans-next').addEventListener('click', () => { state.page++; loadBans(); });
  $('lookup-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const id = $('lookup-user').value.trim();
    $('lookup-user-error').textContent = '';
    $('lookup-user').removeAttribute('aria-invalid');
    if (!id) { $('lookup-user-error').textContent = 'Enter a user id.'; $('lookup-user').setAttribute('aria-invalid', 'true'); $('lookup-user').focus(); return; }
    location.hash = `#/user/${encodeURIComponent(id)}`;
  });

  function userLink(userId) {
    const a = document.createElement('a');
    a.href = `#/user/${encodeURIComponent(userId)}`;
    a.textContent = userId;
    return a;
  }
  function cell(content, className) {
    const td = document.createElement('td');
    if (content instanceof Node) td.append(content); else td.textContent = content == null ? '' : String(content);
    if (className) td.className = className;
    return td;
  }
  function countdown(until) {
    const span = document.createElement('span');
    span.dataset.until = String(until);
    span.textContent = formatLeft(until - serverNow());
    return span;
  }

  async function loadBans() {
    if (!state.app) return;
    const query = new URLSearchParams({ page: String(state.page), size: String(state.size) });
    if (state.search) query.set('userId', state.search);
    const answer = await call('GET', appPath(`/bans?${query}`));
    if (answer.code !== 200) { say(answer.errorMessage); return; }
    noteNow(answer.now);
    const body = $('bans-body');
    if (answer.bans.length === 0) {
      const tr = document.createElement('tr');
      const td = cell(state.search ? `No active ban matches "${state.search}".` : 'No active ban.', 'empty');
      td.colSpan = 5;
      tr.append(td);
      body.replaceChildren(tr);
    } else {
      body.replaceChildren(...answer.bans.map((ban) => {
        const tr = document.createElement('tr');
        tr.dataset.user = ban.userId;
        tr.append(cell(userLink(ban.userId)), cell(formatTime(ban.until)), cell(countdown(ban.until)), cell(ban.reason), cell(ban.operator));
        return tr;
      }));
    }
    const pages = Math.max(1, Math.ceil(answer.total / answer.size));
    $('bans-total').textContent = `${answer.total} active ban${answer.total === 1 ? '' : 's'}${state.search ? ' matching' : ''}, page ${answer.page} of ${pages}`;
    $('bans-prev').disabled = answer.page <= 1;
    $('bans-next').disabled = answer.page >= pages;
  }

  // ---- a user's page ----
  async function loadUser(userId, more) {
    const query = more && state.userCursor ? `?cursor=${encodeURIComponent(state.userCursor)}` : '';
    const answer = await call('GET', appPath(`/users/${encodeURIComponent(userId)}${query}`));
    if (answer.code !== 200) { say(answer.errorMessage); return; }
    noteNow(answer.now);
    $('user-title').textContent = `User ${answer.userId}`;
    const banned = $('user-banned');
    banned.textContent = answer.banned ? 'Banned' : 'Not banned';
    banned.className = answer.banned ? 'banned' : '';
    $('user-until').textContent = answer.banned ? formatTime(answer.until) + (answer.reason ? ` (${answer.reason})` : '') : '—';
    $('user-left').replaceChildren(answer.banned ? countdown(answer.until) : '—');
    const online = $('user-online');
    online.textContent = answer.online ? 'Online: a session is connected' : 'Offline';
    online.className = answer.online ? 'online' : '';
    $('user-kept').textContent = answer.keptMessages == null ? 'not known here' : String(answer.keptMessages);
    const rows = answer.history.map((entry) => {
      const tr = document.createElement('tr');
      const what = entry.action === 'block' ? `Ban, ${formatMinutes(entry.minutes)}` : entry.action === 'unblock' ? 'Unban' : 'Expired';
      tr.append(cell(formatTime(entry.time)), cell(what), cell(formatTime(entry.until)), cell(entry.reason), cell(entry.operator));
      return tr;
    });
    if (more) $('history-body').append(...rows);
    else if (rows.length === 0) {
      const tr = document.createElement('tr');
      const td = cell('Never banned.', 'empty');
      td.colSpan = 5;
      tr.append(td);
      $('history-body').replaceChildren(tr);
    } else $('history-body').replaceChildren(...rows);
    state.userCursor = answer.nextCursor || null;
    $('history-more').hidden = !state.userCursor;
  }
  $('history-more').addEventListener('click', () => loadUser(state.user, true));
  $('user-refresh').addEventListener('click', () => loadUser(state.user));
  $('user-fill').addEventListener('click', () => { $('change-userIds').value = state.user; $('change-userIds').focus(); });

  // ---- views ----
  function route() {
    if (!state.me || !state.app) return;
    const match = /^#\/user\/(.+)$/.exec(location.hash);
    if (match) {
      state.user = decodeURIComponent(match[1]);
      $('bans-view').hidden = true;
      $('user-view').hidden = false;
      loadUser(state.user).then(() => $('user-title').focus());
    } else {
      state.user = null;
      $('user-view').hidden = true;
      $('bans-view').hidden = false;
      loadBans();
    }
  }
  window.addEventListener('hashchange', route);
  function refreshView() { if (state.user) loadUser(state.user); else loadBans(); }

  // ---- live feed and chart ----
  const kinds = { 'user.blocked': 'Banned', 'user.unblocked': 'Unbanned', 'user.block_expired': 'Ban ended' };
  function stopFeed() { if (state.feed) { state.feed.close(); state.feed = null; } }
  function startFeed() {
    stopFeed();
    $('feed').replaceChildren();
    $('feed-state').textContent = 'Connecting…';
    const source = new EventSource(`${api}${appPath('/events')}`);
    state.feed = source;
    source.onopen = () => { $('feed-state').textContent = 'Live: new bans, unbans and expiries appear here as they happen.'; };
    source.onerror = () => { $('feed-state').textContent = 'Reconnecting…'; };
    let refresh = null;
    Object.keys(kinds).forEach((type) => source.addEventListener(type, (message) => {
      const e = JSON.parse(message.data);
      const li = document.createElement('li');
      li.dataset.type = type;
      li.dataset.user = e.userId;
      const kind = document.createElement('span');
      kind.className = 'kind';
      kind.textContent = kinds[type];
      const details = [` ${e.userId}`];
      if (e.minute) details.push(` for ${formatMinutes(e.minute)}`);
      if (e.operator) details.push(` by ${e.operator}`);
      if (e.reason) details.push(`: ${e.reason}`);
      li.append(`${formatTime(e.time)} `, kind, details.join(''));
      const feed = $('feed');
      feed.prepend(li);
      while (feed.children.length > 50) feed.lastElementChild.remove();
      // Several events in a row cause one reload of what is shown.
      clearTimeout(refresh);
      refresh = setTimeout(() => { refreshView(); if (type === 'user.blocked') loadChart(); }, 300);
    }));
  }
  async function loadChart() {
    if (!state.app) return;
    const answer = await call('GET', appPath('/chart'));
    if (answer.code !== 200) return;
    const max = Math.max(1, ...answer.hours.map((h) => h.bans));
    const total = answer.hours.reduce((sum, h) => sum + h.bans, 0);
    $('chart').replaceChildren(...answer.hours.map((h) => {
      const bar = document.createElement('div');
      bar.className = 'bar';
      bar.style.height = `${(h.bans / max) * 100}%`;
      bar.title = `${formatTime(h.start)}: ${h.bans} ban${h.bans === 1 ? '' : 's'}`;
      return bar;
    }));
    const busiest = answer.hours.reduce((best, h) => (h.bans > best.bans ? h : best), answer.hours[0]);
    $('chart-summary').textContent = total === 0 ? 'No ban in the last 24 hours.'
      : `${total} ban${total === 1 ? '' : 's'} in the last 24 hours; the most, ${busiest.bans}, in the hour from ${formatTime(busiest.start)}.`;
  }

  // ---- time left counts down every second ----
  let reloading = false;
  setInterval(() => {
    let ended = false;
    document.querySelectorAll('[data-until]').forEach((span) => {
      const left = Number(span.dataset.until) - serverNow();
      span.textContent = formatLeft(left);
      if (left <= 0) ended = true;
    });
    if (ended && !reloading) { reloading = true; setTimeout(() => { reloading = false; refreshView(); }, 1500); }
  }, 1000);

  // ---- start ----
  (async () => {
    await refreshToken();
    const me = await call('GET', '/me');
    if (me.code === 200) start(me); else if (me.code !== 1004) showSignIn(me.errorMessage);
  })();
})();
