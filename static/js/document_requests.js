// Document request form: add and remove item rows. Without this file the page
// still works: it comes with blank rows, and a row without a title is skipped.
(function () {
  "use strict";
  var form = document.querySelector("form.request-form");
  if (!form) return;
  var rows = form.querySelector("#item-rows");
  var total = form.querySelector("input[name$='-TOTAL_FORMS']");
  var empty = document.getElementById("item-empty");
  var add = form.querySelector("[data-add-item]");
  if (!rows || !total || !empty || !add) return;

  add.hidden = false;
  form.querySelectorAll("[data-remove-item]").forEach(function (b) { b.hidden = false; });

  add.addEventListener("click", function () {
    var index = parseInt(total.value, 10);
    var html = empty.innerHTML.replace(/__prefix__/g, String(index));
    rows.insertAdjacentHTML("beforeend", html);
    total.value = String(index + 1);
    var row = rows.lastElementChild;
    row.querySelectorAll("[data-remove-item]").forEach(function (b) { b.hidden = false; });
    var first = row.querySelector("input[type=text]");
    if (first) first.focus();
  });

  // A removed row is emptied and hidden: the server skips rows without a title.
  rows.addEventListener("click", function (event) {
    var button = event.target.closest("[data-remove-item]");
    if (!button) return;
    var row = button.closest("[data-item-row]");
    row.querySelectorAll("input, select, textarea").forEach(function (field) {
      if (field.type !== "hidden") field.value = "";
    });
    row.hidden = true;
  });
})();
