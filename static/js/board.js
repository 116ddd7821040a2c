// The team board: drag a card to another column (native HTML5 drag and drop), or
// use the "Move to" menu on the card (keyboard). Both ask the server, which is
// the judge: a refused move puts the card back where it was and says why.
// Without this file the menu is a plain form and the page still works.
(function () {
  "use strict";
  var board = document.querySelector("[data-board]");
  var flash = document.querySelector("[data-board-flash]");
  var flashTimer = null;

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (e) {
      return "";
    }
  }

  function say(message, kind) {
    if (!flash) return;
    flash.textContent = message;
    flash.className = "board-flash flash flash-" + kind;
    flash.hidden = false;
    window.clearTimeout(flashTimer);
    flashTimer = window.setTimeout(function () { flash.hidden = true; }, 8000);
  }

  function column(status) {
    return board ? board.querySelector('[data-column="' + status + '"]') : null;
  }

  function bump(status, delta) {
    var col = column(status);
    var count = col && col.querySelector("[data-count]");
    if (!count || /\+$/.test(count.textContent)) return; // a capped count stays as it is
    count.textContent = String(Math.max(0, parseInt(count.textContent, 10) + delta));
  }

  function tidy(list) {
    // The "No tasks" line shows only in an empty column.
    if (!list) return;
    var empty = list.querySelector("[data-empty]");
    var cards = list.querySelectorAll("[data-card]").length;
    if (cards && empty) empty.remove();
    if (!cards && !empty) {
      var line = document.createElement("li");
      line.className = "board-empty muted";
      line.setAttribute("data-empty", "");
      line.textContent = "No tasks";
      list.appendChild(line);
    }
  }

  function send(card, status) {
    var body = new URLSearchParams();
    body.set("status", status);
    return fetch(card.getAttribute("data-move-url"), {
      method: "POST",
      headers: { "X-CSRFToken": csrfToken(), "Accept": "application/json" },
      body: body,
      credentials: "same-origin"
    }).then(function (response) {
      return response.json().catch(function () {
        return { error: "The server did not answer as expected (" + response.status + "). Reload the page." };
      }).then(function (data) {
        if (!response.ok && !data.error) data.error = "The move was refused (" + response.status + ").";
        return data;
      });
    }, function () {
      return { error: "The server could not be reached: nothing was changed." };
    });
  }

  // Moves `card` (already shown in its new place, or not) and settles the result.
  function move(card, status, undo) {
    var from = card.getAttribute("data-status");
    var fromList = column(from) && column(from).querySelector("[data-cards]");
    card.classList.add("card-busy");
    return send(card, status).then(function (data) {
      card.classList.remove("card-busy");
      if (data.error) {
        if (undo) undo();
        say(data.error, "error");
        return;
      }
      var fresh = document.createElement("template");
      fresh.innerHTML = data.card.trim();
      var replacement = fresh.content.firstElementChild;
      var target = column(data.status);
      var list = target && target.querySelector("[data-cards]");
      if (board && list && card.parentNode !== list) {
        list.insertBefore(replacement, list.firstChild);
        card.remove();
      } else if (board && !list) {
        card.remove(); // skipped or cancelled: no longer on the board
      } else {
        card.replaceWith(replacement);
      }
      if (board && from !== data.status) {
        bump(from, -1);
        if (list) bump(data.status, 1);
        tidy(list);
        tidy(fromList);
      }
      say(data.message, "success");
    });
  }

  // Drag and drop --------------------------------------------------------------
  var dragged = null;
  var origin = null;

  document.addEventListener("dragstart", function (event) {
    var card = event.target.closest && event.target.closest("[data-card][draggable=true]");
    if (!card) return;
    dragged = card;
    origin = { parent: card.parentNode, next: card.nextSibling };
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.id);
    card.classList.add("card-dragging");
  });

  document.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("card-dragging");
    document.querySelectorAll(".board-column.drag-over").forEach(function (c) { c.classList.remove("drag-over"); });
  });

  function dropColumn(event) {
    var col = event.target.closest && event.target.closest("[data-drop]");
    return dragged && col && col.getAttribute("data-column") !== dragged.getAttribute("data-status") ? col : null;
  }

  document.addEventListener("dragover", function (event) {
    var col = dropColumn(event);
    if (!col) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    col.classList.add("drag-over");
  });

  document.addEventListener("dragleave", function (event) {
    var col = event.target.closest && event.target.closest("[data-drop]");
    if (col && !col.contains(event.relatedTarget)) col.classList.remove("drag-over");
  });

  document.addEventListener("drop", function (event) {
    var col = dropColumn(event);
    if (!col) return;
    event.preventDefault();
    col.classList.remove("drag-over");
    var card = dragged;
    var back = origin;
    dragged = null;
    var list = col.querySelector("[data-cards]");
    list.insertBefore(card, list.firstChild);
    tidy(list);
    move(card, col.getAttribute("data-column"), function () {
      back.parent.insertBefore(card, back.next && back.next.parentNode === back.parent ? back.next : null);
      tidy(back.parent);
      tidy(list);
    });
  });

  // The keyboard's way: the card's "Move to" menu ------------------------------
  document.addEventListener("submit", function (event) {
    var form = event.target.closest("[data-card-move]");
    if (!form) return;
    event.preventDefault();
    var status = form.elements.status.value;
    if (!status) return;
    var card = form.closest("[data-card]");
    move(card, status, null).then(function () {
      var moved = document.getElementById(card.id);
      var select = moved && moved.querySelector("select[name=status]");
      if (select) select.focus();
    });
  });
})();
