// sustrack: the one script. Pages work without it; it only warns two
// minutes before the idle timeout would end the session (SPEC section 11)
// and, when asked, keeps the session alive without leaving the page (so
// nothing typed into a form is lost).
(function () {
  "use strict";
  var IDLE_MS = 30 * 60 * 1000;
  var LEAD_MS = 2 * 60 * 1000;
  var box = document.getElementById("idle-warning");
  var stay = document.getElementById("stay-signed-in");
  var until = Date.parse(document.body.getAttribute("data-idle-until") || "");
  if (!box || !stay || isNaN(until)) { return; }
  var timer = null;
  function schedule(end) {
    if (timer) { window.clearTimeout(timer); }
    timer = window.setTimeout(function () {
      box.hidden = false;
      stay.focus();
    }, Math.max(end - Date.now() - LEAD_MS, 0));
  }
  stay.addEventListener("click", function () {
    // Any signed-in page counts as activity; the answer is not needed.
    window.fetch("/", { credentials: "same-origin", cache: "no-store" }).then(function (r) {
      if (r.ok) {
        box.hidden = true;
        schedule(Date.now() + IDLE_MS);
      } else {
        window.location.assign("/login?ended=1");
      }
    });
  });
  schedule(until);
})();

// The import page: while a confirmed import runs, its progress is asked
// for every second and shown; when it ends the page is reloaded to show
// the result. Without the script, the page's "Refresh" link does the same.
(function () {
  "use strict";
  var status = document.querySelector("[data-poll]");
  var bar = document.getElementById("import-progress");
  var pct = document.getElementById("import-percent");
  if (!status || !bar || !pct) { return; }
  var url = status.getAttribute("data-poll");
  function poll() {
    window.fetch(url, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.json(); })
      .then(function (s) {
        bar.value = s.percent;
        pct.textContent = String(s.percent);
        if (s.running) { window.setTimeout(poll, 1000); } else { window.location.reload(); }
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 1000);
})();
