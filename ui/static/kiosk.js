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
    setTimeout(function () { window.location.href = done.getAttribute("href"); }, 60000);
  }
})();
