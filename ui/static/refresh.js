// Admin pages that show a changing picture (sync, devices): instead of
// reloading themselves, they fetch themselves every data-refresh seconds
// while visible and replace only the parts that changed ([data-live]),
// keeping focus, scroll and the tables' sideways scroll. A change of the
// summary ([data-announce]) is said in the polite status region; the
// "Aktualisieren" button does the same at once and says it is done.
// Without JavaScript the button is a plain link that loads the page again.
(function () {
  "use strict";
  if (!document.querySelector("[data-refresh]") || !window.fetch || !window.DOMParser) { return; }
  var status = document.getElementById("refresh-status");
  var focusables = "a[href], button, input, select, textarea, [tabindex]";
  var busy = false;
  document.querySelectorAll(".js-only").forEach(function (el) { el.hidden = false; });

  function text(doc, sel) {
    return Array.prototype.map.call(doc.querySelectorAll(sel), function (el) { return el.textContent.trim(); }).join(" · ");
  }
  function say(s) {
    if (!status || !s) { return; }
    status.textContent = "";
    setTimeout(function () { status.textContent = s; }, 50);
  }

  // swap replaces old by fresh, keeping focus (by id, else by position
  // among the part's focusable elements) and sideways scroll.
  function swap(old, fresh) {
    var active = document.activeElement;
    var had = active && old.contains(active) ? active : null;
    var at = had ? Array.prototype.indexOf.call(old.querySelectorAll(focusables), had) : -1;
    var scrolls = Array.prototype.map.call(old.querySelectorAll(".table-wrap"), function (el) { return el.scrollLeft; });
    var node = document.importNode(fresh, true);
    old.replaceWith(node);
    node.querySelectorAll(".table-wrap").forEach(function (el, i) { if (scrolls[i]) { el.scrollLeft = scrolls[i]; } });
    if (!had) { return; }
    var next = (had.id && document.getElementById(had.id)) || node.querySelectorAll(focusables)[at] ||
      node.querySelector(focusables) || document.getElementById("refresh");
    if (next) { next.focus({ preventScroll: true }); }
  }

  function update(manual) {
    if (busy) { return; }
    busy = true;
    fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } }).then(function (res) {
      if (res.redirected || !res.ok) {
        if (manual) { window.location.reload(); } // the session ended: show why
        return null;
      }
      return res.text();
    }).then(function (html) {
      if (!html) { return; }
      var doc = new DOMParser().parseFromString(html, "text/html");
      var before = text(document, "[data-announce]");
      var x = window.scrollX, y = window.scrollY;
      doc.querySelectorAll("[data-live]").forEach(function (fresh) {
        var old = document.querySelector('[data-live="' + fresh.dataset.live + '"]');
        if (old && old.outerHTML !== fresh.outerHTML) { swap(old, fresh); }
      });
      window.scrollTo(x, y);
      var after = text(document, "[data-announce]");
      if (manual) {
        say([status && status.dataset.done, after].filter(Boolean).join(" · "));
      } else if (after !== before) {
        say(after);
      }
    }).catch(function () { /* the next round tries again */ }).finally(function () { busy = false; });
  }

  // Every second: is it time (data-refresh seconds since the last update)?
  var last = Date.now();
  setInterval(function () {
    var root = document.querySelector("[data-refresh]");
    var every = ((root && parseInt(root.dataset.refresh, 10)) || 15) * 1000;
    if (Date.now() - last >= every && document.visibilityState === "visible") {
      last = Date.now();
      update(false);
    }
  }, 1000);
  var button = document.getElementById("refresh");
  if (button) {
    button.addEventListener("click", function (e) { e.preventDefault(); last = Date.now(); update(true); });
  }
})();
