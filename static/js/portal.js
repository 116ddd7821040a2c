// Client portal: an item's upload starts as soon as files are chosen (camera or
// files), with a progress bar; without JavaScript the form's Upload button works.
(function () {
  "use strict";
  document.querySelectorAll("form[data-portal-upload]").forEach(function (form) {
    var input = form.querySelector("input[type=file]");
    var button = form.querySelector("button[type=submit]");
    var bar = form.querySelector("progress");
    var status = form.querySelector("[data-upload-status]");
    if (button) button.hidden = true;
    input.addEventListener("change", function () {
      if (!input.files.length) return;
      var data = new FormData(form);
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.setRequestHeader("X-CSRFToken", form.querySelector("[name=csrfmiddlewaretoken]").value);
      bar.hidden = false;
      status.textContent = "Uploading…";
      xhr.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) bar.value = Math.round((e.loaded / e.total) * 100);
      });
      xhr.addEventListener("load", function () {
        var answer = null;
        try { answer = JSON.parse(xhr.responseText); } catch (err) { answer = null; }
        var failed = answer && answer.files ? answer.files.filter(function (f) { return !f.ok; }) : [];
        if (xhr.status >= 200 && xhr.status < 300 && !failed.length) {
          status.textContent = "Received. Updating…";
          window.location.reload();
          return;
        }
        bar.hidden = true;
        status.textContent = failed.length ? failed.map(function (f) { return f.message; }).join(" ") : "The upload did not go through. Try again.";
        status.classList.add("error");
      });
      xhr.addEventListener("error", function () {
        bar.hidden = true;
        status.textContent = "The connection dropped. Try again.";
      });
      xhr.send(data);
    });
  });
})();
