// Desk: keep the page current in place. When the site's state changes (a
// ticket is taken, another counter calls) the server says so over
// server-sent events; the desk fetches itself and replaces only the parts
// that changed ([data-live]), keeping focus, choices in forms and scroll,
// and announces calls at other counters in a polite live region. The
// clerk's own actions (the forms inside those parts) are sent the same
// way, and focus moves to what comes next. Without JavaScript every form
// still works as a plain form that loads the page again.
(function () {
  "use strict";
  if (!window.fetch || !window.DOMParser || !document.querySelector("[data-live]")) { return; }
  var live = document.getElementById("desk-live");
  var own = (document.querySelector(".desk-bar") || {}).dataset || {};
  var busy = false, again = false;

  // calls maps each counter to the number it serves now.
  function calls(root) {
    var m = {};
    root.querySelectorAll(".counter-list li[data-counter]").forEach(function (li) {
      m[li.dataset.counter] = { number: li.dataset.current, say: li.dataset.say };
    });
    return m;
  }

  function announce(lines) {
    if (!live || !lines.length) { return; }
    live.textContent = "";
    setTimeout(function () { live.textContent = lines.join(". "); }, 50);
  }

  // values keeps what the clerk chose in a region's form fields by id.
  function values(region) {
    var v = {};
    region.querySelectorAll("select[id], input[id]:not([type=hidden])").forEach(function (el) {
      v[el.id] = el.type === "checkbox" ? el.checked : el.value;
    });
    return v;
  }

  function restore(region, v) {
    Object.keys(v).forEach(function (id) {
      var el = document.getElementById(id);
      if (!el || !region.contains(el)) { return; }
      if (el.type === "checkbox") { el.checked = v[id]; return; }
      if (el.tagName === "SELECT" && !Array.prototype.some.call(el.options, function (o) { return o.value === v[id]; })) { return; }
      el.value = v[id];
    });
  }

  function focusable(el) { return el && !el.disabled && el.offsetParent !== null; }

  // swap replaces the regions of doc that differ; with messages, also the
  // page's flash and error. It returns the element focus was in when its
  // region was replaced, by id, or null.
  function swap(doc, messages) {
    var active = document.activeElement, lost = null;
    var x = window.scrollX, y = window.scrollY;
    doc.querySelectorAll("[data-live]").forEach(function (fresh) {
      var old = document.querySelector('[data-live="' + fresh.dataset.live + '"]');
      if (!old || old.outerHTML === fresh.outerHTML) { return; }
      // An open question (no-show?) stays until the clerk answers it.
      if (!messages && old.querySelector(".desk-confirm")) { return; }
      var keep = values(old);
      var had = active && old.contains(active) ? active : null;
      var node = document.importNode(fresh, true);
      old.replaceWith(node);
      restore(node, keep);
      if (had) { lost = { id: had.id, region: node }; }
    });
    if (messages) {
      var main = document.getElementById("main");
      main.querySelectorAll(":scope > .flash, :scope > .error").forEach(function (el) { el.remove(); });
      var first = main.firstElementChild;
      doc.querySelectorAll("#main > .flash, #main > .error").forEach(function (el) {
        main.insertBefore(document.importNode(el, true), first);
      });
    }
    window.scrollTo(x, y);
    return lost;
  }

  // settle puts focus back where it was, or on the heading of the part it
  // was in when that control is gone (never on the page's body).
  function settle(lost) {
    if (!lost) { return; }
    var el = lost.id && document.getElementById(lost.id);
    if (!focusable(el)) {
      var section = lost.region.closest("section");
      el = section && section.querySelector("h2[tabindex]");
    }
    if (el) { el.focus({ preventScroll: true }); }
  }

  // load fetches a desk page: the parsed document when it is the desk,
  // else null after showing whatever came instead (the login page when the
  // session ended, an error page).
  function load(url, init) {
    return fetch(url, Object.assign({ credentials: "same-origin", headers: { "Accept": "text/html" } }, init)).then(function (res) {
      return res.text().then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        if (doc.querySelector("[data-live]")) { return doc; }
        if (res.redirected || (init && init.method) !== "POST") {
          window.location.assign(res.url);
        } else {
          document.open(); document.write(html); document.close();
        }
        return null;
      });
    });
  }

  // refresh brings the page up to date after a change elsewhere.
  function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    var before = calls(document);
    var here = document.querySelector('[data-live="here"]');
    var waitingBefore = here ? here.dataset.count : "";
    load("/desk").then(function (doc) {
      if (!doc) { return; }
      var after = calls(doc), say = [];
      Object.keys(after).forEach(function (id) {
        var a = after[id], b = before[id];
        if (id !== own.counter && a.number && (!b || b.number !== a.number) && a.say) { say.push(a.say); }
      });
      var fresh = doc.querySelector('[data-live="here"]');
      if (fresh && waitingBefore === "0" && fresh.dataset.count !== "0") { say.push(fresh.textContent.trim()); }
      settle(swap(doc, false));
      announce(say);
    }).catch(function () { /* the next event tries again */ }).finally(function () {
      busy = false;
      if (again) { again = false; setTimeout(refresh, 100); }
    });
  }

  // The clerk's own actions: sent in place, then focus on what comes next.
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.closest("[data-live]") || e.defaultPrevented) { return; }
    var action = new URL(form.action, window.location.href);
    if (action.origin !== window.location.origin || !action.pathname.startsWith("/desk")) { return; }
    e.preventDefault();
    var submitter = e.submitter;
    var body = new URLSearchParams(new FormData(form));
    var get = form.method.toLowerCase() === "get";
    busy = true;
    form.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
    load(get ? action.pathname + "?" + body : action.pathname, get ? {} : { method: "POST", body: body }).then(function (doc) {
      if (!doc) { return; }
      var lost = swap(doc, true);
      var next = document.querySelector("#main > .error") ||
        document.querySelector("[data-live] [autofocus]") ||
        (submitter && submitter.id && document.getElementById(submitter.id));
      if (!focusable(next) && !(next && next.tabIndex === -1)) {
        next = ["start", "finish", "call-next"].map(function (id) { return document.getElementById(id); }).filter(focusable)[0];
      }
      if (next && next.classList.contains("error")) { next.tabIndex = -1; }
      if (next) { next.focus({ preventScroll: false }); } else { settle(lost || { region: document.querySelector('[data-live="current"]') }); }
    }).catch(function () { window.location.reload(); }).finally(function () {
      busy = false;
      if (again) { again = false; setTimeout(refresh, 100); }
    });
  });

  if (!window.EventSource) { return; }
  var first = true;
  var source = new EventSource("/display/events");
  source.addEventListener("display", function () {
    if (first) { first = false; return; }
    setTimeout(refresh, 150);
  });
})();
