// Kiosk: a double tap must not issue two tickets (the server also
// deduplicates by key), and a ticket screen returns to the start by itself.
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
  var done = document.getElementById("done");
  if (done) {
    // Replace, not follow: the ticket's page (its address has the token,
    // which cancels the ticket) must not stay in the shared kiosk's
    // history for the next citizen's "back".
    var back = function () { window.location.replace(done.getAttribute("href")); };
    done.addEventListener("click", function (ev) { ev.preventDefault(); back(); });
    var timer = setTimeout(back, 60000);
    // Typing a number for the SMS sign-up keeps the ticket on screen.
    document.querySelectorAll(".sms-form input").forEach(function (input) {
      input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(back, 60000); });
    });
  }
})();
