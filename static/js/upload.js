// Document uploads: drag and drop, one request per file with its own progress bar,
// and each file's outcome (stored, duplicate, or why it was refused).
//
// Without this file the form still works: a plain multipart POST of every chosen
// file, answered with a message per file. With it, each file is sent as the raw
// request body (application/octet-stream, its name in X-File-Name, the form's
// other fields in X-Document-Fields), which the server streams to disk.
(function () {
  "use strict";

  function formatSize(bytes) {
    if (bytes < 1024) return bytes + " bytes";
    var units = ["KB", "MB", "GB"];
    var value = bytes;
    var unit = "bytes";
    for (var i = 0; i < units.length && value >= 1024; i++) {
      value /= 1024;
      unit = units[i];
    }
    return value.toFixed(value < 10 ? 1 : 0) + " " + unit;
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  }

  function setup(form) {
    var input = form.querySelector('input[type="file"]');
    var list = form.querySelector("[data-upload-list]");
    var zone = form.querySelector("[data-dropzone]");
    var submit = form.querySelector("[data-upload-submit]");
    var single = form.hasAttribute("data-single");
    var maxBytes = parseInt(form.getAttribute("data-max-bytes"), 10) || 0;
    var queue = [];
    var busy = false;

    // The file input is filled by the queue, not required by the browser.
    input.required = false;

    function addRow(file) {
      var row = element("li", "upload-item");
      var head = element("div", "upload-head");
      head.appendChild(element("span", "upload-name", file.name));
      head.appendChild(element("small", "muted", formatSize(file.size)));
      var bar = element("progress", "upload-bar");
      bar.max = 100;
      bar.value = 0;
      var status = element("div", "upload-status muted", "Waiting");
      row.appendChild(head);
      row.appendChild(bar);
      row.appendChild(status);
      list.appendChild(row);
      return { file: file, row: row, bar: bar, status: status, state: "waiting" };
    }

    function finish(entry, ok, message, url, warning) {
      entry.state = ok ? "done" : "failed";
      entry.row.classList.add(ok ? (warning ? "upload-warning" : "upload-ok") : "upload-error");
      entry.bar.value = ok ? 100 : entry.bar.value;
      entry.status.className = "upload-status";
      entry.status.textContent = message + " ";
      if (url) {
        var link = element("a", "", "Open");
        link.href = url;
        entry.status.appendChild(link);
      }
    }

    function add(files) {
      if (busy) return;
      if (single) {
        queue.forEach(function (entry) { if (entry.state === "waiting") entry.row.remove(); });
        queue = queue.filter(function (entry) { return entry.state !== "waiting"; });
        files = Array.prototype.slice.call(files, 0, 1);
      }
      Array.prototype.forEach.call(files, function (file) {
        var entry = addRow(file);
        if (maxBytes && file.size > maxBytes) {
          finish(entry, false, file.name + " was not accepted: it is larger than the firm's limit of " +
            Math.floor(maxBytes / 1048576) + " MB.");
          return;
        }
        queue.push(entry);
      });
    }

    function fields() {
      var data = new FormData(form);
      data.delete(input.name);
      data.delete("csrfmiddlewaretoken");
      return new URLSearchParams(data).toString();
    }

    function send(entry, extra) {
      return new Promise(function (resolve) {
        var xhr = new XMLHttpRequest();
        xhr.open("POST", form.getAttribute("action") || window.location.pathname);
        xhr.setRequestHeader("Content-Type", "application/octet-stream");
        xhr.setRequestHeader("Accept", "application/json");
        xhr.setRequestHeader("X-CSRFToken", form.querySelector('input[name="csrfmiddlewaretoken"]').value);
        xhr.setRequestHeader("X-File-Name", encodeURIComponent(entry.file.name));
        xhr.setRequestHeader("X-Document-Fields", extra);
        entry.state = "sending";
        entry.status.textContent = "Uploading…";
        xhr.upload.addEventListener("progress", function (event) {
          if (event.lengthComputable) {
            entry.bar.value = Math.round((event.loaded / event.total) * 100);
            entry.status.textContent = "Uploading… " + entry.bar.value + "%";
          }
        });
        xhr.upload.addEventListener("load", function () {
          entry.status.textContent = "Checking…";
        });
        xhr.addEventListener("load", function () {
          var answer = null;
          try { answer = JSON.parse(xhr.responseText).files[0]; } catch (e) { answer = null; }
          if (answer) {
            finish(entry, answer.ok, answer.message, answer.url, answer.duplicate);
          } else if (xhr.status === 403) {
            finish(entry, false, "Not allowed: reload the page (your session may have ended).");
          } else {
            finish(entry, false, "The server could not take this file (" + xhr.status + ").");
          }
          resolve();
        });
        xhr.addEventListener("error", function () {
          finish(entry, false, "The connection was lost while sending this file.");
          resolve();
        });
        xhr.send(entry.file);
      });
    }

    function done() {
      busy = false;
      submit.disabled = false;
      var url = form.getAttribute("data-done-url");
      var stored = queue.some(function (entry) { return entry.state === "done"; });
      if (url && stored && !form.querySelector(".upload-done")) {
        var link = element("a", "btn upload-done", form.getAttribute("data-done-label") || "Done");
        link.href = url;
        submit.parentNode.insertBefore(link, submit.nextSibling);
      }
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (busy) return; // a second click while sending does nothing
      var waiting = queue.filter(function (entry) { return entry.state === "waiting"; });
      if (!waiting.length) {
        if (!queue.length) input.click();
        return;
      }
      busy = true;
      submit.disabled = true;
      var extra = fields();
      // One file at a time: each gets the whole connection and its own answer.
      waiting.reduce(function (chain, entry) {
        return chain.then(function () { return send(entry, extra); });
      }, Promise.resolve()).then(done);
    });

    input.addEventListener("change", function () {
      add(input.files);
      input.value = "";
    });

    if (zone) {
      ["dragenter", "dragover"].forEach(function (name) {
        zone.addEventListener(name, function (event) {
          event.preventDefault();
          zone.classList.add("dropzone-active");
        });
      });
      ["dragleave", "drop"].forEach(function (name) {
        zone.addEventListener(name, function (event) {
          event.preventDefault();
          zone.classList.remove("dropzone-active");
        });
      });
      zone.addEventListener("drop", function (event) {
        if (event.dataTransfer && event.dataTransfer.files.length) add(event.dataTransfer.files);
      });
    }
  }

  document.querySelectorAll("form[data-upload]").forEach(setup);
})();
