// Kiosk: a double tap must not issue two tickets (the server also
// deduplicates by key), and a kiosk left alone returns to its German start
// page for the next citizen.
(function () {
  "use strict";
  document.querySelectorAll("form.take").forEach(function (form) {
    form.addEventListener("submit", function () {
      var buttons = document.querySelectorAll(".service-button");
      // Disable after the submit has been dispatched, so this form's values still go.
      setTimeout(function () { buttons.forEach(function (b) { b.disabled = true; }); }, 0);
    });
  });
  // "Ja, trotzdem" on the kiosk's question (closed, or a wait past
  // closing): the question was the answer to a post, so it must not stay
  // in the shared kiosk's history either: a "back" to it would offer to
  // post again, and its key would show the earlier ticket. Post in the
  // background and replace the question with the ticket's page.
  var question = document.querySelector("form.confirm");
  if (question && window.fetch) {
    question.addEventListener("submit", function (ev) {
      ev.preventDefault();
      question.querySelector("button").disabled = true;
      fetch(question.action, { method: "POST", body: new URLSearchParams(new FormData(question)) }).then(function (res) {
        if (res.redirected && res.ok) { window.location.replace(res.url); } else { question.submit(); }
      }, function () { question.submit(); });
    });
  }
  // The start page for the next citizen: German (?lang=de also resets the
  // kiosk's language cookie, which keeps the last citizen's choice).
  var start = "/kiosk?lang=de";
  // Replace, not follow: the ticket's page (its address has the token,
  // which cancels the ticket) must not stay in the shared kiosk's
  // history for the next citizen's "back".
  var back = function () { window.location.replace(start); };
  var done = document.getElementById("done");
  if (done) {
    start = done.getAttribute("href");
    done.addEventListener("click", function (ev) { ev.preventDefault(); back(); });
  }
  // Nothing to return to on the German start page itself.
  var home = window.location.pathname === "/kiosk" && document.documentElement.lang === "de";
  if (home && !done) {
    return;
  }
  // The idle time comes from the appliance (-kiosk-idle) as data-idle.
  // data-idle-warn seconds before it runs out, the page asks whether the
  // citizen needs more time (WCAG 2.2.1): one tap anywhere, or on "Mehr
  // Zeit", starts the time again.
  var idle = (parseInt(document.body.getAttribute("data-idle"), 10) || 60) * 1000;
  var warn = (parseInt(document.body.getAttribute("data-idle-warn"), 10) || 0) * 1000;
  var box = document.getElementById("idle-warning");
  var count = document.getElementById("idle-count");
  var more = document.getElementById("idle-more");
  var timer, warnTimer, tick, before = null;
  function hideWarning() {
    clearInterval(tick);
    if (!box || box.hidden) { return; }
    var inside = box.contains(document.activeElement);
    box.hidden = true;
    if (inside) { (before && document.contains(before) ? before : document.getElementById("main")).focus(); }
  }
  function showWarning() {
    if (!box) { return; }
    var left = Math.round(warn / 1000);
    count.textContent = left;
    before = document.activeElement;
    box.hidden = false;
    more.focus();
    tick = setInterval(function () { if (left > 1) { count.textContent = --left; } }, 1000);
  }
  function arm() {
    clearTimeout(timer);
    clearTimeout(warnTimer);
    hideWarning();
    if (box && warn > 0) { warnTimer = setTimeout(showWarning, idle - warn); }
    timer = setTimeout(back, idle);
  }
  arm();
  if (more) { more.addEventListener("click", arm); }
  // Any touch or typing (a number for the SMS sign-up) keeps the page.
  ["pointerdown", "keydown", "input"].forEach(function (type) {
    document.addEventListener(type, arm, true);
  });
})();
