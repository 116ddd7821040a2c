// The client list: select-all and the selection count for bulk actions, and a
// confirmation for bulk archiving. The list works without this file (tick rows
// one by one); the results table is replaced by htmx, so listeners are delegated.
(function () {
  "use strict";
  function rows(form) {
    return Array.prototype.slice.call(form.querySelectorAll('input[name="clients"]'));
  }
  function refresh(form) {
    var boxes = rows(form);
    var checked = boxes.filter(function (b) { return b.checked; }).length;
    var all = form.querySelector("[data-select-all]");
    if (all) {
      all.hidden = false;
      all.checked = boxes.length > 0 && checked === boxes.length;
      all.indeterminate = checked > 0 && checked < boxes.length;
    }
    var count = form.querySelector("[data-bulk-count]");
    if (count) count.textContent = checked ? checked + " selected" : "";
  }
  function init(root) {
    (root || document).querySelectorAll("form.bulk-form").forEach(refresh);
  }
  document.addEventListener("change", function (event) {
    var form = event.target.closest("form.bulk-form");
    if (!form) return;
    if (event.target.matches("[data-select-all]")) {
      rows(form).forEach(function (b) { b.checked = event.target.checked; });
    }
    refresh(form);
  });
  // A button's own data-confirm (the bulk form has several submit buttons).
  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    var message = button && button.getAttribute("data-confirm");
    if (message && !window.confirm(message)) event.preventDefault();
  });
  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:afterSettle", function (event) { init(event.target); });
})();
