// Projector page with a changing code: fetch the new code and QR as each one expires.
// Without this script a <noscript> refresh reloads the page at the same moments.
(function () {
  "use strict";
  var box = document.getElementById("projector");
  if (!box || !window.fetch) return;
  var code = document.getElementById("checkin-code"), qr = document.getElementById("checkin-qr");

  function next(seconds) { window.setTimeout(refresh, Math.max(1, seconds) * 1000 + 200); }

  function refresh() {
    fetch(box.dataset.refresh, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) { if (!response.ok) throw new Error(response.status); return response.json(); })
      .then(function (data) {
        code.textContent = data.code;
        qr.innerHTML = data.qr;  // an SVG made by the server from the code
        next(data.seconds_left);
      })
      .catch(function () { window.setTimeout(function () { window.location.reload(); }, 5000); });
  }
  next(parseInt(box.dataset.seconds, 10) || 30);
})();
