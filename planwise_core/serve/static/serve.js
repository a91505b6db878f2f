// planwise serve: live progress over SSE (re-fetching the server-rendered fragment), a polling fallback,
// the CSRF header on htmx requests and the unsaved-changes guard. Pages work without this file.
(function () {
  "use strict";
  var csrf = document.querySelector('meta[name="csrf-token"]');
  document.addEventListener("htmx:configRequest", function (e) {
    if (csrf && csrf.content) { e.detail.headers["X-CSRF-Token"] = csrf.content; }
  });

  function refresh(live) {
    var url = live.getAttribute("data-fragment");
    fetch(url, {credentials: "same-origin"}).then(function (r) { return r.text(); }).then(function (html) {
      var box = document.createElement("div");
      box.innerHTML = html;
      var fresh = box.querySelector("#progress");
      var old = live.querySelector("#progress");
      if (fresh && old) { old.replaceWith(fresh); }
    });
  }

  function follow(live) {
    var failures = 0, source = new EventSource(live.getAttribute("data-events"));
    var onEvent = function () { failures = 0; refresh(live); };
    ["queued", "started", "stage", "step_done", "cancel_requested", "run"].forEach(function (t) {
      source.addEventListener(t, onEvent);
    });
    source.addEventListener("finished", function () { source.close(); window.location.reload(); });
    source.onerror = function () {
      failures += 1;
      if (failures >= 3) {  // the stream keeps failing: poll the fragment instead
        source.close();
        var timer = setInterval(function () {
          refresh(live);
          var p = live.querySelector("#progress");
          var s = p && p.getAttribute("data-status");
          if (s && ["completed", "failed", "cancelled", "interrupted"].indexOf(s) >= 0) {
            clearInterval(timer); window.location.reload();
          }
        }, 3000);
      }
    };
  }

  function feed(box) {
    var source = new EventSource(box.getAttribute("data-feed"));
    source.addEventListener("job", function () {
      if (window.htmx) { htmx.trigger(document.body, "planwise-job"); }
    });
  }

  function guard(form) {  // the scenario editor: leaving with unsaved changes asks first
    var mark = function () { form.setAttribute("data-dirty", "true"); };
    form.addEventListener("input", mark);
    form.addEventListener("change", mark);
    form.addEventListener("submit", function () { form.removeAttribute("data-dirty"); });
    window.addEventListener("beforeunload", function (e) {
      if (form.hasAttribute("data-dirty")) { e.preventDefault(); e.returnValue = ""; }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var guarded = document.querySelector("form[data-guard]");
    if (guarded) { guard(guarded); }
    var live = document.querySelector("[data-events]");
    if (live) { follow(live); }
    var box = document.querySelector("[data-feed]");
    if (box) { feed(box); }
  });
})();
