// The header's running timer (templates/billing/timer_badge_content.html): the
// server says how long the timer had run when it drew the badge; this adds the
// seconds since, once a second. It asks the server nothing (an idle tab must
// not keep the session alive), and the page works without it.
(function () {
  "use strict";
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function tick() {
    document.querySelectorAll("[data-timer-elapsed]").forEach(function (clock) {
      if (!clock.dataset.timerSince) clock.dataset.timerSince = String(Date.now());
      var seconds = Number(clock.dataset.timerElapsed) +
        Math.floor((Date.now() - Number(clock.dataset.timerSince)) / 1000);
      clock.textContent = Math.floor(seconds / 3600) + ":" +
        pad(Math.floor((seconds % 3600) / 60)) + ":" + pad(seconds % 60);
    });
  }
  document.addEventListener("htmx:afterSettle", tick);
  window.setInterval(tick, 1000);
})();
