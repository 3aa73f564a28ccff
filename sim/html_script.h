// The report's only script (sim/html_report.h): draws the space-time diagram of the
// update chosen in the selector from the page's JSON data. Script errors are written
// into the page (#script-errors), so a headless browser's DOM shows them; when it has
// drawn, <body> gets data-rendered="yes".
#pragma once

namespace herd {

inline constexpr const char* kSpaceTimeScript = R"JS(
(function () {
  'use strict';
  var errors = document.getElementById('script-errors');
  function fail(text) { errors.hidden = false; errors.textContent += text + '\n'; }
  window.addEventListener('error', function (e) { fail('script error: ' + e.message + ' (line ' + e.lineno + ')'); });
  var D = JSON.parse(document.getElementById('herd-data').textContent);
  var NS = 'http://www.w3.org/2000/svg';
  var box = document.getElementById('spacetime');
  var select = document.getElementById('update-select');
  var hover = document.getElementById('hover');
  var facts = document.getElementById('update-facts');
  function el(name, attrs, parent) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }
  function tip(e, text) {
    el('title', {}, e).textContent = text;
    e.addEventListener('mouseover', function () { hover.textContent = text; });
  }
  function client(u) { var f = u.line.split(' '); return f.length > 3 ? f[3] : '?'; }
  function fix(v) { return Math.round(v * 1000) / 1000; }
  D.updates.forEach(function (u, k) {
    var o = document.createElement('option');
    o.value = String(k);
    o.textContent = '#' + u.i + ': ' + client(u) + ' at ' + D.servers[u.origin] + ', ' + u.t + ' ms, ' +
      u.m.length + ' messages';
    select.appendChild(o);
  });
  function draw(k) {
    while (box.firstChild) box.removeChild(box.firstChild);
    var u = D.updates[k];
    if (!u) { facts.textContent = 'no update to draw'; return; }
    var n = D.servers.length;
    var lane = Math.max(12, Math.min(28, Math.floor(600 / Math.max(1, n))));
    var left = 70, width = 1000, top = 8, height = top + lane * n + 34;
    var t0 = u.t, t1 = u.t;
    u.m.forEach(function (m) { t1 = Math.max(t1, m[3] === null ? m[2] : m[3]); });
    u.s.forEach(function (s) { t1 = Math.max(t1, s[1]); });
    var span = Math.max(t1 - t0, 1);
    // Long quiet stretches (a partition waiting to heal) are cut short to a fixed
    // width, marked, so the flood before and the repair after both stay readable.
    var times = [u.t];
    u.m.forEach(function (m) { times.push(m[2]); if (m[3] !== null) times.push(m[3]); });
    u.s.forEach(function (st) { times.push(st[1]); });
    times.sort(function (a, b) { return a - b; });
    var gaps = [], pad = span * 0.02, gapPx = 46;
    for (var g = 0; g + 1 < times.length; ++g) {
      if (times[g + 1] - times[g] > span * 0.2) gaps.push([times[g] + pad, times[g + 1] - pad]);
    }
    var cut = 0;
    gaps.forEach(function (q) { cut += q[1] - q[0]; });
    t0 -= (span - cut) * 0.03; t1 += (span - cut) * 0.05;
    var scale = (width - left - 10 - gapPx * gaps.length) / Math.max(1e-9, t1 - t0 - cut);
    function x(t) {
      var px = left, from = t0;
      for (var q = 0; q < gaps.length; ++q) {
        if (t <= gaps[q][0]) break;
        px += (gaps[q][0] - from) * scale;
        if (t < gaps[q][1]) return px + (t - gaps[q][0]) / (gaps[q][1] - gaps[q][0]) * gapPx;
        px += gapPx;
        from = gaps[q][1];
      }
      return px + (t - from) * scale;
    }
    function y(s) { return top + lane * s + lane / 2; }
    var svg = el('svg', {width: width + 30, height: height, id: 'spacetime-svg'}, null);
    var defs = el('defs', {}, svg);
    var mk = el('marker', {id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 6, markerHeight: 6,
      orient: 'auto-start-reverse'}, defs);
    el('path', {d: 'M0,0 L10,5 L0,10 z', fill: '#1f5fbf'}, mk);
    D.faults.forEach(function (f) {
      var a = f[0], b = f[1] === null ? D.end : f[1];
      if (b < t0 || a > t1) return;
      var text = f[2] + ' at ' + a + ' ms' + (b > a ? ', until ' + b + ' ms' : '');
      if (b === a) {
        tip(el('line', {'class': 'heal', x1: x(a), y1: top, x2: x(a), y2: top + lane * n}, svg), text);
      } else {
        var xa = x(Math.max(a, t0)), xb = x(Math.min(b, t1));
        tip(el('rect', {'class': 'fault', x: xa, y: top, width: Math.max(1, xb - xa), height: lane * n}, svg), text);
      }
    });
    for (var s = 0; s < n; ++s) {
      el('line', {'class': 'lane', x1: left, y1: y(s), x2: width - 10, y2: y(s)}, svg);
      el('text', {'class': 'lane-label', x: left - 6, y: y(s) + 4, 'text-anchor': 'end'}, svg).textContent = D.servers[s];
    }
    var ay = top + lane * n + 6;
    el('line', {'class': 'axis', x1: left, y1: ay, x2: width - 10, y2: ay}, svg);
    // Ticks: the ends of each stretch drawn to scale, and a few between.
    var ticks = [], bounds = [t0];
    gaps.forEach(function (q) { bounds.push(q[0], q[1]); });
    bounds.push(t1);
    for (var b = 0; b + 1 < bounds.length; b += 2) {
      for (var i = 0; i <= 4; ++i) ticks.push(bounds[b] + (bounds[b + 1] - bounds[b]) * i / 4);
    }
    var lastPx = -1e9;
    ticks.forEach(function (t) {
      if (x(t) - lastPx < 70) return;
      for (var q = 0; q < gaps.length; ++q) {
        if (Math.abs(x(t) - x(gaps[q][0]) - gapPx / 2) < 60) return;
      }
      lastPx = x(t);
      el('line', {'class': 'axis', x1: x(t), y1: ay, x2: x(t), y2: ay + 4}, svg);
      el('text', {x: x(t), y: ay + 16, 'text-anchor': 'middle'}, svg).textContent = Math.round(t) + ' ms';
    });
    gaps.forEach(function (q) {
      var xa = x(q[0]);
      tip(el('rect', {'class': 'gap', x: xa + 4, y: top, width: gapPx - 8, height: lane * n}, svg),
        'nothing happens to this update for ' + fix(q[1] - q[0]) + ' ms (' + fix(q[0]) + ' to ' + fix(q[1]) +
        ' ms): drawn short');
      el('text', {x: xa + gapPx / 2, y: ay + 16, 'text-anchor': 'middle', 'class': 'gap-label'}, svg).textContent =
        '\u2248' + (q[1] - q[0] >= 1000 ? fix((q[1] - q[0]) / 1000) + ' s' : Math.round(q[1] - q[0]) + ' ms');
    });
    var lost = 0;
    u.m.forEach(function (m) {
      var what = (m[5] === 's' ? 'SYNC REC' : 'FLOOD hop ' + m[4]) + ', ' + D.servers[m[0]] + ' to ' + D.servers[m[1]] +
        ', sent at ' + m[2] + ' ms';
      if (m[3] !== null) {
        tip(el('line', {'class': 'msg' + (m[5] === 's' ? ' sync' : ''), x1: x(m[2]), y1: y(m[0]), x2: x(m[3]),
          y2: y(m[1]), 'marker-end': 'url(#arrow)'}, svg),
          what + ', received at ' + m[3] + ' ms, delay ' + fix(m[3] - m[2]) + ' ms');
      } else {
        ++lost;
        var ex = x(m[2]) + 14, ey = (y(m[0]) + y(m[1])) / 2;
        var g = el('g', {}, svg);
        el('line', {'class': 'msg lost', x1: x(m[2]), y1: y(m[0]), x2: ex, y2: ey}, g);
        el('path', {'class': 'lostx', d: 'M' + (ex - 3) + ',' + (ey - 3) + 'l6,6m0,-6l-6,6'}, g);
        tip(g, what + ', never received (dropped, cut, or its connection closed)');
      }
    });
    var stored = {}, last = u.t;
    u.s.forEach(function (st) {
      stored[st[0]] = true;
      last = Math.max(last, st[1]);
      var origin = st[2] === 'c';
      tip(el('circle', {'class': 'store' + (origin ? ' origin' : ''), cx: x(st[1]), cy: y(st[0]), r: origin ? 5 : 3.5}, svg),
        D.servers[st[0]] + ' stored it at ' + st[1] + ' ms (+' + fix(st[1] - u.t) + ' ms), ' +
        (origin ? 'from its client' : st[2] === 's' ? 'by sync' : 'by flood, hop ' + st[3]));
    });
    box.appendChild(svg);
    facts.textContent = u.m.length + ' messages (' + lost + ' never received' +
      (u.left_out ? ', ' + u.left_out + ' more not drawn' : '') + '), stored by ' + Object.keys(stored).length +
      ' of ' + n + ' servers, the last ' + fix(last - u.t) + ' ms after its IAMAT. ' + u.line;
    box.setAttribute('data-update', String(u.i));
    box.setAttribute('data-messages', String(u.m.length));
    box.setAttribute('data-line', u.line);
  }
  select.addEventListener('change', function () { draw(Number(select.value)); });
  select.value = String(D['default']);
  draw(D['default']);
  document.body.setAttribute('data-rendered', 'yes');
})();
)JS";

}  // namespace herd
