// booking.js: the online booking's pages work without it; it only helps.
// The error summary's links move the focus into the field (a fragment
// link alone only scrolls), with its label and message in view; and a
// booking's page follows its status over Server-Sent Events (confirmed →
// at the site, cancelled), rendering anew on the server when it changes.
(function () {
  'use strict';

  var summary = document.getElementById('error-summary');
  if (summary) {
    if (document.activeElement !== summary) { summary.focus(); }
    summary.addEventListener('click', function (ev) {
      var a = ev.target.closest && ev.target.closest('a[href^="#"]');
      if (!a) { return; }
      var el = document.getElementById(a.getAttribute('href').slice(1));
      if (!el) { return; }
      ev.preventDefault();
      var box = el.closest('.field, fieldset, section') || el;
      box.scrollIntoView({ block: 'start' });
      if (el.matches('input, select, textarea, button, a[href]') || el.tabIndex >= 0) {
        el.focus({ preventScroll: true });
      } else {
        var first = el.querySelector('input, a[href]');
        (first || el).focus({ preventScroll: true });
      }
      if (history.replaceState) { history.replaceState(null, '', '#' + el.id); }
    });
  }

  var root = document.getElementById('booking');
  if (root && root.dataset.events && window.EventSource) {
    var es = new EventSource(root.dataset.events);
    es.addEventListener('booking', function (ev) {
      var b = JSON.parse(ev.data);
      if (b && b.status && b.status !== root.dataset.status) {
        es.close();
        window.location.reload();
      }
    });
    es.addEventListener('gone', function () { es.close(); });
    var extras = document.querySelectorAll('.js-only');
    for (var i = 0; i < extras.length; i++) { extras[i].hidden = false; }
  }
})();
