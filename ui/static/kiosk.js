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
  var idle = (parseInt(document.body.getAttribute("data-idle"), 10) || 60) * 1000;
  var timer = setTimeout(back, idle);
  // Any touch or typing (a number for the SMS sign-up) keeps the page.
  ["pointerdown", "keydown", "input"].forEach(function (type) {
    document.addEventListener(type, function () { clearTimeout(timer); timer = setTimeout(back, idle); }, true);
  });
})();
