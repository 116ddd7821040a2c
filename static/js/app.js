// AdvisorOS: small progressive enhancements. Every page works without this file.
(function () {
  "use strict";
  // Close an open <details> menu when clicking elsewhere or pressing Escape.
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details.menu[open]").forEach(function (menu) {
      if (!menu.contains(event.target)) menu.removeAttribute("open");
    });
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      document.querySelectorAll("details.menu[open]").forEach(function (m) { m.removeAttribute("open"); });
    }
  });
  // The top bar's Menu button opens the navigation popover by itself (popovertarget);
  // this only keeps its aria-expanded in step for assistive technology.
  document.querySelectorAll("[popovertarget]").forEach(function (button) {
    var target = document.getElementById(button.getAttribute("popovertarget"));
    if (!target) return;
    button.setAttribute("aria-expanded", "false");
    target.addEventListener("toggle", function (event) {
      button.setAttribute("aria-expanded", event.newState === "open" ? "true" : "false");
    });
  });
  // A phone turned sideways (or a window widened) shows the sidebar: shut the menu.
  var narrow = window.matchMedia("(max-width: 800px)");
  narrow.addEventListener("change", function () {
    var nav = document.getElementById("side-nav");
    if (!narrow.matches && nav && nav.matches(":popover-open")) nav.hidePopover();
  });
  // Ask before destructive actions marked with data-confirm.
  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) event.preventDefault();
  });
  // Copy buttons (recovery codes, secrets).
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button || !navigator.clipboard) return;
    var target = document.querySelector(button.getAttribute("data-copy"));
    if (target) navigator.clipboard.writeText(target.innerText).then(function () { button.textContent = "Copied"; });
  });
})();
