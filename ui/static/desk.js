// Desk: keep the queue current. When the site's state changes (a ticket is
// taken, another counter calls), reload the desk page unless the clerk is
// in the middle of using a form.
(function () {
  "use strict";
  if (!window.EventSource) { return; }
  var first = true, pending = false;
  var source = new EventSource("/display/events");
  function reloadSoon() {
    if (pending) { return; }
    pending = true;
    setTimeout(function () {
      var active = document.activeElement;
      if (active && (active.tagName === "INPUT" || active.tagName === "SELECT")) { pending = false; return; }
      window.location.reload();
    }, 400);
  }
  source.addEventListener("display", function () {
    if (first) { first = false; return; }
    reloadSoon();
  });
})();
