// Call display: live over Server-Sent Events. On every new call (or recall)
// the big panel flashes, a chime sounds and then the call is spoken in
// German (speech synthesis, the text "announce" rendered by the server).
// Sound needs a click on "sound on": browsers only play audio after a user
// gesture. A kiosk browser started with
// --autoplay-policy=no-user-gesture-required plays at once, and the button
// hides itself.
(function () {
  "use strict";
  var data = document.getElementById("display-data");
  var lastKey = data ? data.getAttribute("data-key") : "";
  var none = data ? data.getAttribute("data-none") : "";
  var unit = document.documentElement.lang === "en" ? " min" : " Min.";
  var speechLang = (data && data.getAttribute("data-speech-lang")) || "de-DE";
  var audio = null;
  var soundButton = document.getElementById("sound");

  function enableSound() {
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) { return; }
    audio = audio || new Ctx();
    audio.resume();
    if (soundButton) { soundButton.hidden = true; }
  }
  function soundOn() { return !!audio && audio.state === "running"; }
  if (soundButton) { soundButton.addEventListener("click", enableSound); }
  // Where the browser allows autoplay, sound is on without a click.
  (function () {
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) { return; }
    audio = new Ctx();
    function check() { if (audio.state === "running" && soundButton) { soundButton.hidden = true; } }
    audio.onstatechange = check;
    check();
  })();

  // speak says text with a German voice once the chime has faded. Calls in
  // quick succession are queued by the browser, not cut off.
  function speak(text) {
    var synth = window.speechSynthesis;
    if (!text || !soundOn() || !synth || !window.SpeechSynthesisUtterance) { return; }
    setTimeout(function () {
      var u = new window.SpeechSynthesisUtterance(text);
      u.lang = speechLang;
      u.rate = 0.9;
      var voices = synth.getVoices ? synth.getVoices() : [];
      for (var i = 0; i < voices.length; i++) {
        if (voices[i].lang && voices[i].lang.replace("_", "-").indexOf(speechLang.slice(0, 2)) === 0) { u.voice = voices[i]; break; }
      }
      synth.speak(u);
    }, 1400);
  }

  // Two-tone gong, synthesised: no audio file needed.
  function chime() {
    if (!audio || audio.state !== "running") { return; }
    [[659.25, 0], [523.25, 0.45]].forEach(function (tone) {
      var osc = audio.createOscillator(), gain = audio.createGain();
      var t = audio.currentTime + tone[1];
      osc.type = "sine";
      osc.frequency.value = tone[0];
      gain.gain.setValueAtTime(0.0001, t);
      gain.gain.exponentialRampToValueAtTime(0.5, t + 0.03);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + 1.2);
      osc.connect(gain).connect(audio.destination);
      osc.start(t);
      osc.stop(t + 1.3);
    });
  }

  // Only a change is written: the current call sits in an assertive live
  // region, and rewriting the same number would read it out again each
  // time an unrelated ticket is issued.
  function text(el, value) { if (el && el.textContent !== value) { el.textContent = value; } }
  function row(a, b) {
    var li = document.createElement("li"), x = document.createElement("span"), y = document.createElement("span");
    x.textContent = a; y.textContent = b; li.appendChild(x); li.appendChild(y);
    return li;
  }

  function render(state) {
    var now = document.getElementById("now");
    var latest = state.calls.length ? state.calls[0] : null;
    text(document.getElementById("now-number"), latest ? latest.number : "–");
    text(document.getElementById("now-counter"), latest ? latest.counter_name : "");
    var arrow = now.querySelector(".arrow");
    text(arrow, latest ? "→" : "");
    var recent = document.getElementById("recent");
    recent.replaceChildren();
    state.calls.forEach(function (c) { recent.appendChild(row(c.number, c.counter_name)); });
    if (!state.calls.length) { recent.appendChild(row(none, "")); }
    var waits = document.getElementById("waits");
    waits.replaceChildren();
    if (state.closed) {
      // Closed by the opening hours: when it opens, not minutes (issue 14).
      var shut = row(state.closed, "");
      shut.className = "closed";
      waits.appendChild(shut);
    } else {
      state.waits.forEach(function (w) { waits.appendChild(row(w.prefix + " · " + w.name, w.estimated_wait_minutes + unit)); });
    }
    var key = latest ? latest.key : "";
    if (key && key !== lastKey) {
      now.classList.remove("flash-in");
      void now.offsetWidth; // restart the animation
      now.classList.add("flash-in");
      chime();
      speak(latest.announce);
    }
    lastKey = key;
  }

  function tick() {
    var el = document.getElementById("clock");
    if (el) { el.textContent = new Date().toLocaleTimeString("de-DE", { hour: "2-digit", minute: "2-digit", timeZone: "Europe/Berlin" }); }
  }
  tick();
  setInterval(tick, 10000);

  if (window.EventSource) {
    var source = new EventSource("/display/events");
    source.addEventListener("display", function (e) { render(JSON.parse(e.data)); });
  }
})();
