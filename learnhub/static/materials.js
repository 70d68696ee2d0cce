/* Live preview for the materials editor. Without this script the Preview button posts the
   form and the server renders the same preview; with it, the preview follows the typing.
   The HTML comes from the server's own sanitising pipeline, the same as published pages. */
(function () {
  "use strict";
  var form = document.querySelector("form.editor[data-preview]");
  var target = document.getElementById("materials-preview");
  if (!form || !target || !window.fetch || !window.FormData) { return; }
  var source = form.querySelector("textarea[name=text]");
  var timer = null;
  var sent = 0;

  function refresh() {
    var ticket = ++sent;
    var data = new FormData();
    data.append("text", source.value);
    data.append("csrf_token", form.querySelector("input[name=csrf_token]").value);
    fetch(form.getAttribute("data-preview"), {
      method: "POST", body: data, credentials: "same-origin",
      headers: { "X-CSRFToken": form.querySelector("input[name=csrf_token]").value }
    }).then(function (response) {
      return response.ok ? response.json() : null;
    }).then(function (payload) {
      if (payload && ticket === sent) { target.innerHTML = payload.html; }
    }).catch(function () { /* offline: the Preview button still works */ });
  }

  source.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, 400);
  });
  refresh();
})();
