// Quiz page: autosave while answering, a countdown, and a confirmation before submitting.
// The page works without it: Save and Submit are ordinary form buttons.
(function () {
  "use strict";
  var form = document.getElementById("attempt-form");
  if (!form) return;
  var status = document.getElementById("save-status");
  var dirty = false, saving = false, timer = null;
  // Answers not yet on the server also wait in this browser, so that a tab closed while
  // the connection was down loses nothing: reopening the attempt sends them.
  var pendingKey = "learnhub-pending:" + form.dataset.saveUrl;

  function say(text) { if (status) status.textContent = text; }

  function entries() {
    var out = [];
    new FormData(form).forEach(function (value, name) { if (name !== "csrf_token") out.push([name, value]); });
    return out;
  }
  function keep() { try { localStorage.setItem(pendingKey, JSON.stringify(entries())); } catch (e) { /* private mode */ } }
  function drop() { try { localStorage.removeItem(pendingKey); } catch (e) { /* private mode */ } }

  function restore() {
    var pending = null;
    try { pending = JSON.parse(localStorage.getItem(pendingKey) || "null"); } catch (e) { pending = null; }
    if (!pending) return;
    var values = {};
    pending.forEach(function (pair) { (values[pair[0]] = values[pair[0]] || []).push(pair[1]); });
    Array.prototype.forEach.call(form.elements, function (field) {
      if (!field.name || field.name === "csrf_token" || field.type === "hidden" || field.type === "submit") return;
      var wanted = values[field.name] || [];
      if (field.type === "radio" || field.type === "checkbox") field.checked = wanted.indexOf(field.value) !== -1;
      else field.value = wanted.length ? wanted[0] : "";
    });
    dirty = true;
    save();
  }

  function save() {
    if (saving || !dirty) return;
    saving = true; dirty = false;
    var data = new FormData(form);
    fetch(form.dataset.saveUrl, {
      method: "POST", body: data, credentials: "same-origin", keepalive: true,
      headers: { "Accept": "application/json", "X-Requested-With": "fetch" }
    }).then(function (response) {
      return response.json().then(function (body) { return { ok: response.ok, body: body }; });
    }).then(function (result) {
      saving = false;
      if (result.ok) {
        if (!dirty) drop();
        say(form.dataset.savedText + " " + new Date().toLocaleTimeString());
      } else if (result.body && result.body.redirect) {
        drop();  // submitted or out of time: the server has the last word
        window.location.href = result.body.redirect;
      }
    }).catch(function () {
      saving = false; dirty = true;
      say(form.dataset.offlineText);
    });
  }

  function schedule() { dirty = true; keep(); clearTimeout(timer); timer = setTimeout(save, 1200); }
  form.addEventListener("change", schedule);
  form.addEventListener("input", schedule);
  window.addEventListener("online", save);
  setInterval(save, 15000);
  document.addEventListener("visibilitychange", function () { if (document.visibilityState === "hidden") save(); });

  restore();

  var submit = document.getElementById("submit-attempt");
  if (submit) submit.addEventListener("click", function (event) {
    if (!window.confirm(submit.dataset.confirm)) event.preventDefault();
    else drop();
  });

  var clock = document.getElementById("timer");
  if (clock) {
    var end = Date.now() + parseInt(clock.dataset.remaining, 10) * 1000;
    var left = clock.querySelector(".left");
    var tick = function () {
      var s = Math.max(0, Math.round((end - Date.now()) / 1000));
      var m = Math.floor(s / 60), r = s % 60;
      left.textContent = "(" + m + ":" + (r < 10 ? "0" : "") + r + ")";
      if (s <= 60) clock.classList.add("urgent");
      if (s === 0) {
        // Time is up on the server too: submitting now keeps what was saved before the deadline.
        form.action = submit.getAttribute("formaction");
        drop();
        form.submit();
        return;
      }
      setTimeout(tick, 1000);
    };
    tick();
  }
})();
