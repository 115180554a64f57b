// Print view: print the receipt once, then go back to the kiosk start.
(function () {
  "use strict";
  window.addEventListener("afterprint", function () { window.location.href = "/kiosk"; });
  if (!navigator.webdriver) { window.print(); }
})();
