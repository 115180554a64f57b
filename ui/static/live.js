// live.js keeps central's portal pages current over Server-Sent Events:
// the waiting times of every site (event "sites" on /events) and a ticket's
// status (event "ticket" on /t/{token}/events). The pages are complete
// without it; this only updates what the server rendered. Texts come from
// the page (#live-texts), so no language needs anything here.
(function () {
  'use strict';
  var textsEl = document.getElementById('live-texts');
  if (!textsEl || !window.EventSource || !window.Intl) { return; }
  var T = JSON.parse(textsEl.textContent);

  var zone = 'Europe/Berlin';
  var clock = new Intl.DateTimeFormat('de-DE', { timeZone: zone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  var day = new Intl.DateTimeFormat('de-DE', { timeZone: zone, day: '2-digit', month: '2-digit' });

  function fmt(s, v) { return String(s).replace(/%[ds]/, v); }
  // count formats a text with a count in the plural form the page's
  // language uses for it ("1 Person wartet", "2 Personen warten").
  var rules = window.Intl.PluralRules ? new Intl.PluralRules(document.documentElement.lang || 'de') : null;
  function count(key, n) { return fmt((rules && T[key + '#' + rules.select(n)]) || T[key], n); }
  function setText(el, s) { if (el && el.textContent !== s) { el.textContent = s; } }
  function show(el, on) { if (el && el.hidden === on) { el.hidden = !on; } }

  // updated mirrors the server's freshness text: "Stand 10:42", with the
  // date when that was not today.
  function updated(iso) {
    var d = new Date(iso);
    if (isNaN(d.getTime()) || d.getUTCFullYear() < 2000) { return T['portal.never']; }
    var s = clock.format(d);
    if (day.format(d) !== day.format(new Date())) { s = day.format(d) + ' ' + s; }
    return fmt(T['portal.updated'], s);
  }

  // listen subscribes to one event of a stream. If the server refuses the
  // stream for good (EventSource retries network errors by itself), the
  // page reloads after a while, which also shows a 404 for a gone ticket.
  function listen(url, event, fn) {
    var es = new EventSource(url);
    es.addEventListener(event, function (ev) { fn(JSON.parse(ev.data)); });
    es.addEventListener('gone', function () { es.close(); location.reload(); });
    es.onerror = function () {
      if (es.readyState === EventSource.CLOSED) { setTimeout(function () { location.reload(); }, 30000); }
    };
  }

  function portal(list) {
    listen(list.dataset.events, 'sites', function (sites) {
      var items = list.querySelectorAll('[data-site]');
      var byID = {};
      for (var i = 0; i < items.length; i++) { byID[items[i].dataset.site] = items[i]; }
      if (items.length !== sites.length || !sites.every(function (s) { return byID[s.id]; })) {
        location.reload(); // a site joined or left: render the list anew
        return;
      }
      var turned = sites.some(function (s) {
        var li = byID[s.id];
        return li.hasAttribute('data-hours') && li.hasAttribute('data-shut') === s.open;
      });
      if (turned) {
        location.reload(); // a site opened or closed: its wait or "opens at" is rendered on the server
        return;
      }
      sites.forEach(function (s) {
        var li = byID[s.id];
        function f(name) { return li.querySelector('[data-field="' + name + '"]'); }
        li.classList.toggle('stale', s.stale);
        li.classList.toggle('closed', !s.open);
        var badge = f('open');
        badge.className = 'badge ' + (s.open ? 'open' : 'closed');
        setText(badge, s.open ? T['portal.open'] : T['portal.closed']);
        show(f('stale'), s.stale);
        show(f('stale-note'), s.stale);
        setText(f('waiting'), count('portal.waiting', s.waiting));
        setText(f('minutes'), String(s.estimated_wait_minutes));
        setText(f('updated'), updated(s.last_sync));
      });
    });
  }

  function ticket(root) {
    var title = document.title;
    function f(name) { return root.querySelector('[data-field="' + name + '"]'); }
    listen(root.dataset.events, 'ticket', function (t) {
      var was = root.dataset.status;
      if (root.dataset.service && t.service !== root.dataset.service) {
        // Transferred to another service: its name is translated on the
        // server, so render the page anew.
        window.location.reload();
        return;
      }
      if (root.dataset.sms !== undefined && (t.sms || '') !== root.dataset.sms) {
        // The site confirmed (or refused) the SMS sign-up: the page says
        // so in the citizen's language, rendered on the server. Go to the
        // page's own address: this one may answer a form post.
        window.location.replace(root.dataset.page || window.location.href);
        return;
      }
      if (root.hasAttribute('data-shut') !== !!t.shut) {
        // The site opened or closed: the wait in minutes, or when it
        // opens, is rendered on the server.
        window.location.replace(root.dataset.page || window.location.href);
        return;
      }
      root.dataset.status = t.status;
      root.classList.toggle('stale', t.stale);
      setText(f('state'), T['status.state.' + t.status] || t.status);
      show(f('stale'), t.stale);
      setText(f('position'), String(Math.max(t.position - 1, 0))); // people ahead, as kiosk and paper say
      setText(f('wait'), t.estimated_wait_minutes > 0 ? String(t.estimated_wait_minutes) : T['status.soon']);
      show(f('wait-unit'), t.estimated_wait_minutes > 0);
      var p90 = f('p90');
      if (p90) {
        // Rebuilt only when the bound changed: the page's polite region
        // must not be read out again for an update that changed nothing.
        var bound = p90.querySelector('bdi');
        if (!bound) {
          bound = document.createElement('bdi');
          var parts = String(T['status.p90']).split(/%[ds]/);
          p90.replaceChildren(parts[0] || '', bound, parts[1] || '');
        }
        setText(bound, String(t.estimated_wait_p90_minutes));
        show(p90, t.estimated_wait_minutes > 0 && t.estimated_wait_p90_minutes > t.estimated_wait_minutes);
      }
      // The counter's name sits in its own <bdi> inside the rendered
      // sentence, so that "Platz 3" reads right inside Arabic text.
      var called = f('called'), counter = called && called.querySelector('bdi');
      if (counter) { setText(counter, t.counter_name || t.counter || ''); }
      setText(f('updated'), updated(t.last_sync));
      var shown = root.querySelectorAll('[data-show]');
      for (var i = 0; i < shown.length; i++) {
        var when = shown[i].dataset.show;
        show(shown[i], when === t.status ||
          (when === 'next' && t.status === 'waiting' && t.position === 1) ||
          (when === 'stale' && t.stale) ||
          (when === 'cancel_requested' && t.cancel_requested === true) ||
          (when === 'cancel' && (t.status === 'waiting' || t.status === 'parked') && !t.cancel_requested));
      }
      if (t.status === 'called' && was !== 'called') {
        document.title = f('called').textContent + ' · ' + title;
        if (navigator.vibrate) { navigator.vibrate([400, 200, 400]); }
      } else if (t.status !== 'called') {
        document.title = title;
      }
    });
  }

  var list = document.getElementById('sites');
  if (list && list.dataset.events) { portal(list); }
  var root = document.getElementById('ticket');
  if (root && root.dataset.events) { ticket(root); }
  var extras = document.querySelectorAll('.js-only');
  for (var i = 0; i < extras.length; i++) { extras[i].hidden = false; }
})();
