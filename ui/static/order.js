// order.js: the certificate order at the portal. The pages are complete
// without it; it only helps: the form focuses its error summary and
// moves to a field from the summary's link, shows only the sections the
// chosen certificate and delivery need, and the status page follows its
// order over Server-Sent Events by fetching itself anew and replacing
// what changed, without moving the reader's focus.
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
      var box = el.closest('.field, .choice, fieldset') || el;
      box.scrollIntoView({ block: 'start' });
      el.focus({ preventScroll: true });
    });
  }

  var form = document.querySelector('form.order-form');
  if (form) {
    var sync = function () {
      var kind = form.querySelector('input[name="kind"]:checked');
      var delivery = form.querySelector('input[name="delivery"]:checked');
      var civil = !!(kind && kind.hasAttribute('data-civil'));
      var post = !!(delivery && delivery.value === 'post');
      var parts = form.querySelectorAll('[data-when]');
      for (var i = 0; i < parts.length; i++) {
        var when = parts[i].getAttribute('data-when');
        // A section with a message in it stays, whatever is chosen.
        var flagged = !!parts[i].querySelector('.field-error');
        parts[i].hidden = !flagged && !((when === 'civil' && civil) || (when === 'post' && post) || (when === 'pickup' && !post));
      }
    };
    form.addEventListener('change', sync);
    sync();
  }

  var root = document.getElementById('order');
  if (root && root.dataset.events && window.EventSource && window.fetch && window.DOMParser) {
    var busy = false;
    var refresh = function () {
      if (busy) { return; }
      busy = true;
      fetch(window.location.href, { cache: 'no-store', credentials: 'same-origin' })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          busy = false;
          if (!html) { return; }
          var doc = new DOMParser().parseFromString(html, 'text/html');
          var fresh = doc.getElementById('order');
          if (!fresh) { return; }
          var parts = fresh.querySelectorAll('[data-live]');
          for (var i = 0; i < parts.length; i++) {
            var cur = root.querySelector('[data-live="' + parts[i].getAttribute('data-live') + '"]');
            // Only what changed is replaced: the live region speaks once.
            if (cur && cur.innerHTML !== parts[i].innerHTML) { cur.innerHTML = parts[i].innerHTML; }
          }
          root.className = fresh.className;
          root.dataset.status = fresh.dataset.status;
        })
        .catch(function () { busy = false; });
    };
    var es = new EventSource(root.dataset.events);
    es.addEventListener('order', function (ev) {
      var o = JSON.parse(ev.data);
      // Every event refreshes: the freshness ("3 minutes ago") changes
      // with time alone, and the texts are the server's, in the page's
      // language.
      if (o) { refresh(); }
    });
    es.addEventListener('gone', function () { es.close(); });
    var extras = document.querySelectorAll('.js-only');
    for (var i = 0; i < extras.length; i++) { extras[i].hidden = false; }
  }
})();
