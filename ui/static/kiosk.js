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
  var done = document.getElementById("done");
  if (done) {
    var back = function () { window.location.href = done.getAttribute("href"); };
    var timer = setTimeout(back, 60000);
    // Typing a number for the SMS sign-up keeps the ticket on screen.
    document.querySelectorAll(".sms-form input").forEach(function (input) {
      input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(back, 60000); });
    });
  }
})();
