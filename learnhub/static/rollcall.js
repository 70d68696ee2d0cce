// Roll call: each tap is saved at once and the totals follow. Without this script the
// page still works: the marks are sent with "Save attendance".
(function () {
  "use strict";
  var form = document.getElementById("roll-form");
  if (!form || !window.fetch || !window.FormData) return;
  var status = document.getElementById("save-status");
  var token = form.querySelector("input[name=csrf_token]").value;

  function say(text) { if (status) status.textContent = text; }

  form.addEventListener("change", function (event) {
    var input = event.target;
    if (input.type !== "radio" || input.name.indexOf("status-") !== 0) return;
    var row = input.closest("li");
    var body = new FormData();
    body.append("csrf_token", token);
    body.append(input.name, input.value);
    row.classList.add("saving");
    say(form.dataset.saving || "…");
    fetch(form.action, { method: "POST", body: body, credentials: "same-origin",
                         headers: { "Accept": "application/json" } })
      .then(function (response) { return response.json().then(function (data) { return [response.ok, data]; }); })
      .then(function (result) {
        var ok = result[0], data = result[1];
        row.classList.remove("saving");
        if (!ok || data.error) { row.classList.add("unsaved"); say(data.error || ""); return; }
        if (data.conflicts && data.conflicts.length) { form.submit(); return; }  // the page asks which mark to keep
        row.classList.remove("unsaved");
        row.className = row.className.replace(/\bis-\w+/g, "").trim() + " is-" + input.value;
        Object.keys(data.totals).forEach(function (key) {
          var cell = document.querySelector("[data-total=" + key + "]");
          if (cell) cell.textContent = data.totals[key];
        });
        say("");
      })
      .catch(function () { row.classList.remove("saving"); row.classList.add("unsaved"); });
  });
})();
