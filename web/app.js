// netmon live page: reads the agent's NDJSON snapshots from /events (SSE) or,
// failing that, /ws, and shows per interface the totals and rx/tx rate charts.
// No dependencies: it is served from the agent's binary on a router's LAN.
//
// Every number shown carries data-field (the NDJSON key) and data-value (the
// number as the snapshot had it); <main> carries data-seq of the snapshot on
// screen, set after all of it is, so a test can compare page and NDJSON.
'use strict';
(() => {
  const HISTORY = 1024; // points kept per interface (15 min at 1 s, less at faster intervals)
  const FIELDS = ['rx_bps', 'tx_bps', 'rx_pps', 'tx_pps', 'rx_bytes', 'tx_bytes', 'rx_packets', 'tx_packets'];
  const TOTALS = ['rx_bytes', 'tx_bytes', 'rx_packets', 'tx_packets'];

  const $ = (sel, root = document) => root.querySelector(sel);
  const main = $('#ifaces');
  const ifaces = new Map(); // name -> entry
  const view = { windowS: 300, log: false, filter: null, now: 0, intervalMs: 1000, lastAt: 0 };

  // ---- formatting --------------------------------------------------------
  const PREFIX = ['', 'k', 'M', 'G', 'T', 'P', 'E'];
  function si(v, unit) {
    if (typeof v !== 'number' || !isFinite(v)) return '–';
    let x = Math.abs(v);
    let i = 0;
    while (x >= 999.5 && i < PREFIX.length - 1) { x /= 1000; i++; }
    const text = i === 0 && Number.isInteger(x) ? String(x)
      : x.toFixed(x >= 99.95 ? 0 : x >= 9.995 ? 1 : 2);
    return (v < 0 ? '-' : '') + text + ' ' + PREFIX[i] + unit;
  }
  // Axis labels: short, the unit is written once per chart.
  function compact(v) {
    let i = 0;
    while (v >= 1000 && i < PREFIX.length - 1) { v /= 1000; i++; }
    return +v.toPrecision(3) + PREFIX[i];
  }
  // Exact, digits grouped by thin spaces: totals are counters, shown whole.
  const group = (v) => String(v).replace(/\B(?=(\d{3})+(?!\d))/g, '\u202f');

  // ---- history -----------------------------------------------------------
  class Ring {
    constructor(cap) {
      this.cap = cap; this.start = 0; this.len = 0;
      this.t = new Float64Array(cap);
      this.s = [0, 1, 2, 3].map(() => new Float32Array(cap)); // rx_bps tx_bps rx_pps tx_pps
    }
    push(t, values) {
      let i;
      if (this.len < this.cap) i = (this.start + this.len++) % this.cap;
      else { i = this.start; this.start = (this.start + 1) % this.cap; }
      this.t[i] = t;
      for (let k = 0; k < 4; k++) this.s[k][i] = values[k];
    }
    idx(j) { return (this.start + j) % this.cap; }
  }

  // ---- cards -------------------------------------------------------------
  const observer = 'IntersectionObserver' in window ? new IntersectionObserver((entries) => {
    for (const e of entries) {
      const it = ifaces.get(e.target.dataset.iface);
      if (!it) continue;
      it.visible = e.isIntersecting;
      if (it.visible) draw(it);
    }
  }) : null;

  function order(it) { return [it.ifindex || 1e9, it.name]; }
  function before(a, b) {
    const x = order(a), y = order(b);
    return x[0] !== y[0] ? x[0] < y[0] : x[1] < y[1];
  }

  function addIface(name, ifindex) {
    const el = $('#card').content.firstElementChild.cloneNode(true);
    el.dataset.iface = name;
    $('.name', el).textContent = name;
    const it = { name, ifindex, el, ring: new Ring(HISTORY), prev: null, visible: !observer,
      cells: {}, canvases: [...el.querySelectorAll('canvas')], values: {} };
    for (const td of el.querySelectorAll('[data-field]')) it.cells[td.dataset.field] = td;
    setIfindex(it, ifindex);
    ifaces.set(name, it);
    place(it);
    applyFilter(it);
    if (observer) observer.observe(el);
    return it;
  }

  function place(it) {
    let next = null;
    for (const other of ifaces.values()) {
      if (other !== it && other.el.isConnected && before(it, other) && (!next || before(other, next))) next = other;
    }
    main.insertBefore(it.el, next ? next.el : null);
  }

  function setIfindex(it, ifindex) {
    if (ifindex === undefined || (it.ifindex === ifindex && it.el.dataset.ifindex)) return;
    const moved = it.ifindex !== ifindex;
    it.ifindex = ifindex;
    it.el.dataset.ifindex = ifindex;
    $('.ifindex', it.el).textContent = '#' + ifindex;
    if (moved && it.el.isConnected) place(it);
  }

  function removeIface(it) {
    if (observer) observer.unobserve(it.el);
    it.el.remove();
    ifaces.delete(it.name);
  }

  function setCell(it, field, value, derived) {
    const td = it.cells[field];
    if (!td || it.values[field] === value) return;
    it.values[field] = value;
    td.dataset.value = String(value);
    // Attribute writes only on change: a router may list hundreds of cards.
    if (derived !== ('derived' in td.dataset)) {
      if (derived) td.dataset.derived = ''; else delete td.dataset.derived;
    }
    if (field.endsWith('_bps')) td.textContent = si(value, 'bit/s');
    else if (field.endsWith('_pps')) td.textContent = si(value, 'pkt/s');
    else if (field.endsWith('_bytes')) {
      td.firstChild.textContent = group(value);
      td.lastChild.textContent = '(' + si(value, 'B') + ')';
    } else td.textContent = group(value);
  }

  // The ledger's usage (--ledger): today, the billing period and, with a
  // --quota, the bar. Bytes shown exactly and in IEC units; data-value is
  // the NDJSON number or string.
  function show(it, field, value, text) {
    const el = it.cells[field];
    if (!el || el.dataset.value === String(value)) return;
    el.dataset.value = String(value);
    el.textContent = text;
  }
  const IEC = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  function iec(v) {
    if (typeof v !== 'number') return '–';
    let i = 0;
    while (v >= 1024 && i < IEC.length - 1) { v /= 1024; i++; }
    return (i ? v.toFixed(2) : String(v)) + ' ' + IEC[i];
  }
  function bytes(v) { return group(v) + ' B (' + iec(v) + ')'; }
  // The periods are the line's (usage_periods), the same for every interface.
  function setUsage(it, u, periods) {
    const box = $('.usage', it.el);
    box.hidden = !u || typeof u !== 'object';
    if (box.hidden) return;
    for (const p of ['day', 'month']) {
      const c = u[p] || {};
      const label = periods && typeof periods[p] === 'string' ? periods[p] : '–';
      show(it, 'usage.' + p + '.period', label, label);
      for (const d of ['rx_bytes', 'tx_bytes']) show(it, 'usage.' + p + '.' + d, c[d], bytes(c[d]));
    }
    const q = u.quota;
    const quota = $('.quota', it.el);
    quota.hidden = !q || typeof q !== 'object';
    if (quota.hidden) return;
    show(it, 'usage.quota.used_bytes', q.used_bytes, iec(q.used_bytes));
    show(it, 'usage.quota.limit_bytes', q.limit_bytes, iec(q.limit_bytes));
    show(it, 'usage.quota.percent', q.percent, q.percent + ' %');
    show(it, 'usage.quota.projected_bytes', q.projected_bytes, iec(q.projected_bytes));
    show(it, 'usage.quota.direction', q.direction, q.direction);
    show(it, 'usage.quota.kind', q.kind, q.kind);
    const bar = $('.bar', quota);
    bar.firstChild.style.width = Math.min(100, q.percent) + '%';
    // Where the projection ends the period: past the limit is a warning.
    bar.dataset.level = q.percent >= 100 ? 'over' : q.projected_bytes > q.limit_bytes ? 'warn' : 'ok';
  }

  // ---- snapshots ---------------------------------------------------------
  function onLine(text) {
    let snap;
    try { snap = JSON.parse(text); } catch (e) { return; }
    if (!snap || typeof snap.interfaces !== 'object' || snap.interfaces === null) return;
    const compare = snap.source === 'compare';
    const interval = Number(snap.interval_ms) || 0;
    const t = Number(snap.ts_ms) || Date.now();
    const seen = new Set();

    for (const [name, d] of Object.entries(snap.interfaces)) {
      if (!d || typeof d !== 'object') continue;
      seen.add(name);
      let it = ifaces.get(name);
      const fresh = !it;
      if (fresh) it = addIface(name, d.ifindex);
      else setIfindex(it, d.ifindex);

      let v;
      if (compare) {
        // A compare line carries each source's counters since the interface
        // was first seen, no rates: show bpf's and derive rates from them.
        const b = d.bpf || {};
        v = { rx_bytes: b.rx_bytes, tx_bytes: b.tx_bytes, rx_packets: b.rx_packets, tx_packets: b.tx_packets };
        const p = it.prev;
        const rate = (k, mul) => (p && interval > 0 && v[k] >= p[k] ? (v[k] - p[k]) * mul * 1000 / interval : 0);
        v.rx_bps = rate('rx_bytes', 8); v.tx_bps = rate('tx_bytes', 8);
        v.rx_pps = rate('rx_packets', 1); v.tx_pps = rate('tx_packets', 1);
        it.prev = v;
        const badge = $('.badge', it.el);
        badge.hidden = typeof d.match !== 'boolean';
        badge.textContent = d.match ? 'bpf = proc' : 'bpf ≠ proc';
        badge.classList.toggle('bad', d.match === false);
        badge.dataset.field = 'match';
        badge.dataset.value = String(d.match);
      } else {
        v = d;
      }
      for (const f of FIELDS) {
        if (typeof v[f] === 'number') setCell(it, f, v[f], compare && !TOTALS.includes(f));
      }
      setUsage(it, d.usage, snap.usage_periods);
      // The baseline (interval 0) and an interface's first snapshot carry
      // rates of 0 that are not measurements: keep them off the charts.
      if (!fresh && interval > 0) it.ring.push(t, [v.rx_bps, v.tx_bps, v.rx_pps, v.tx_pps].map(Number));
    }
    for (const it of [...ifaces.values()]) if (!seen.has(it.name)) removeIface(it);

    view.now = t;
    if (interval > 0) view.intervalMs = interval;
    view.lastAt = Date.now();
    $('#source').textContent = snap.source;
    $('#seq').textContent = snap.seq;
    const ts = $('#ts');
    ts.textContent = new Date(t).toLocaleTimeString();
    ts.dateTime = new Date(t).toISOString();
    $('#empty').hidden = ifaces.size > 0;
    $('#empty').textContent = 'no interfaces in the latest snapshot';
    main.dataset.source = snap.source;
    main.dataset.tsMs = String(snap.ts_ms);
    main.dataset.seq = String(snap.seq);
    if (status.dataset.state !== 'live') setStatus('live', status.dataset.via);
    scheduleDraw();
  }

  // ---- charts ------------------------------------------------------------
  let drawPending = false;
  function scheduleDraw() {
    if (drawPending) return;
    drawPending = true;
    requestAnimationFrame(() => {
      drawPending = false;
      for (const it of ifaces.values()) if (it.visible && !it.el.hidden) draw(it);
    });
  }

  function niceCeil(x) {
    const e = Math.pow(10, Math.floor(Math.log10(x)));
    for (const m of [1, 2, 2.5, 5, 10]) if (m * e >= x) return m * e;
    return 10 * e;
  }

  // Colours come from the stylesheet (light or dark), read once per frame.
  let palette = null;
  function colorsNow() {
    if (!palette) {
      const css = getComputedStyle(document.documentElement);
      const v = (n) => css.getPropertyValue(n).trim();
      palette = { series: [v('--rx'), v('--tx')], muted: v('--muted'), line: v('--line') };
      requestAnimationFrame(() => { palette = null; });
    }
    return palette;
  }

  function draw(it) {
    const { series: colors, muted, line } = colorsNow();
    const r = it.ring;
    const t1 = view.now;
    const t0 = t1 - view.windowS * 1000;
    for (const c of it.canvases) {
      const w = c.clientWidth, h = c.clientHeight;
      if (!w || !h) continue;
      const dpr = window.devicePixelRatio || 1;
      if (c.width !== Math.round(w * dpr) || c.height !== Math.round(h * dpr)) {
        c.width = Math.round(w * dpr); c.height = Math.round(h * dpr);
      }
      const g = c.getContext('2d');
      g.setTransform(dpr, 0, 0, dpr, 0, 0);
      g.clearRect(0, 0, w, h);
      const k = c.dataset.metric === 'bps' ? 0 : 2;
      const unit = k === 0 ? 'bit/s' : 'pkt/s';

      let first = r.len;
      let max = 0;
      for (let j = r.len - 1; j >= 0; j--) {
        const i = r.idx(j);
        if (r.t[i] < t0) break;
        first = j;
        max = Math.max(max, r.s[k][i], r.s[k + 1][i]);
      }
      const left = 34, right = w - 4, top = 14, bottom = h - 14;
      let y, ticks;
      if (view.log) {
        const hi = Math.max(1, Math.ceil(Math.log10(Math.max(max, 10))));
        y = (v) => bottom - (Math.log10(Math.max(v, 1)) / hi) * (bottom - top);
        ticks = [];
        for (let d = 0; d <= hi; d += Math.ceil(hi / 4)) ticks.push(Math.pow(10, d));
      } else {
        const hi = niceCeil(Math.max(max, 1));
        y = (v) => bottom - (v / hi) * (bottom - top);
        ticks = [0, hi / 4, hi / 2, (3 * hi) / 4, hi];
      }
      const x = (t) => left + ((t - t0) / (t1 - t0)) * (right - left);

      g.font = '10px system-ui, sans-serif';
      g.textAlign = 'right';
      g.textBaseline = 'middle';
      g.lineWidth = 1;
      for (const v of ticks) {
        const yy = Math.round(y(v)) + 0.5;
        g.strokeStyle = line;
        g.beginPath(); g.moveTo(left, yy); g.lineTo(right, yy); g.stroke();
        g.fillStyle = muted;
        g.fillText(compact(v), left - 4, yy);
      }
      g.textAlign = 'left';
      g.textBaseline = 'top';
      g.fillText(unit + (view.log ? ' (log)' : ''), left + 3, 0);
      g.textBaseline = 'bottom';
      g.textAlign = 'right';
      g.fillText('now', right, h);
      g.textAlign = 'left';
      g.fillText('−' + view.windowS / 60 + ' min', left, h);

      // A gap of more than three intervals (agent restarted, link down) is
      // drawn as a gap, not a straight line across it.
      const gap = 3 * view.intervalMs;
      g.lineWidth = 1.5;
      g.lineJoin = 'round';
      for (let s = 0; s < 2; s++) {
        g.strokeStyle = colors[s];
        g.beginPath();
        let prevT = -Infinity;
        for (let j = first; j < r.len; j++) {
          const i = r.idx(j);
          const px = x(r.t[i]), py = y(r.s[k + s][i]);
          if (r.t[i] - prevT > gap) g.moveTo(px, py); else g.lineTo(px, py);
          prevT = r.t[i];
        }
        g.stroke();
      }
    }
  }

  // ---- controls ----------------------------------------------------------
  function globToRegExp(term) {
    const body = term.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
    return new RegExp(/[*?]/.test(term) ? '^' + body + '$' : body, 'i');
  }
  function applyFilter(it) {
    it.el.hidden = !!view.filter && !view.filter.some((re) => re.test(it.name));
  }
  $('#filter').addEventListener('input', (e) => {
    const terms = e.target.value.split(/[\s,]+/).filter(Boolean);
    view.filter = terms.length ? terms.map(globToRegExp) : null;
    for (const it of ifaces.values()) applyFilter(it);
    scheduleDraw();
  });
  $('#window').addEventListener('change', (e) => { view.windowS = Number(e.target.value); scheduleDraw(); });
  $('#log').addEventListener('change', (e) => { view.log = e.target.checked; scheduleDraw(); });
  window.addEventListener('resize', scheduleDraw);

  // ---- connection --------------------------------------------------------
  const status = $('#status');
  function setStatus(state, text) {
    status.dataset.state = state;
    if (state === 'live') status.dataset.via = text;
    status.textContent = state === 'live' ? 'live · ' + text : text;
  }
  const base = location.pathname.replace(/[^/]*$/, '');
  let retry = 0;
  function later(fn) { setTimeout(fn, Math.min(30000, 1000 * Math.pow(2, retry++))); }

  // SSE first: plain HTTP, reconnects by itself. If /events cannot be
  // opened at all (an agent or proxy without it), fall back to /ws.
  function connectSse() {
    if (!('EventSource' in window)) return connectWs();
    setStatus('connecting', 'connecting…');
    let opened = false;
    const es = new EventSource(base + 'events');
    es.onopen = () => { opened = true; retry = 0; setStatus('live', 'SSE'); };
    es.onmessage = (e) => onLine(e.data);
    es.onerror = () => {
      if (!opened) { es.close(); connectWs(); return; }
      if (es.readyState === EventSource.CLOSED) later(connectSse);
      else setStatus('down', 'reconnecting…'); // EventSource retries itself
    };
  }
  function connectWs() {
    const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + base + 'ws';
    let ws;
    try { ws = new WebSocket(url); } catch (e) { setStatus('down', 'cannot connect; retrying…'); later(connectSse); return; }
    ws.onopen = () => { retry = 0; setStatus('live', 'WebSocket'); };
    ws.onmessage = (e) => { if (typeof e.data === 'string') onLine(e.data); };
    ws.onclose = () => { setStatus('down', 'disconnected; retrying…'); later(connectSse); };
  }
  setInterval(() => {
    const quiet = Date.now() - view.lastAt;
    if (status.dataset.state === 'live' && view.lastAt && quiet > Math.max(5000, 3 * view.intervalMs)) {
      setStatus('stale', 'no snapshot for ' + Math.round(quiet / 1000) + ' s');
    }
  }, 1000);
  connectSse();
})();
