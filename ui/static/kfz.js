// kfz.js: the vehicle registration form at the portal. The form is
// complete without it (both owner fieldsets show, with a note to fill in
// the chosen one); it shows only the fieldset of the chosen kind of owner
// and disables the other, so that its fields are neither submitted nor
// checked. Each owner radio names its fieldset in aria-controls.
(function () {
  'use strict';

  var radios = document.querySelectorAll('input[name="owner.kind"][aria-controls]');
  if (!radios.length) { return; }
  var note = document.getElementById('owner-kind-note');
  var sync = function () {
    var chosen = document.querySelector('input[name="owner.kind"]:checked');
    for (var i = 0; i < radios.length; i++) {
      var group = document.getElementById(radios[i].getAttribute('aria-controls'));
      if (!group) { continue; }
      var off = !!chosen && !radios[i].checked; // nothing chosen: both show
      group.hidden = off;
      group.disabled = off;
    }
    if (note) { note.hidden = !!chosen; }
  };
  for (var i = 0; i < radios.length; i++) {
    radios[i].addEventListener('change', sync);
  }
  // A page restored from the back-forward cache keeps its radios.
  window.addEventListener('pageshow', sync);
  sync();
})();
