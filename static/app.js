// sustrack: the one script. Pages work without it; it only warns before
// the idle timeout ends the session (SPEC section 11), two minutes ahead.
(function () {
  "use strict";
  var until = Date.parse(document.body.getAttribute("data-idle-until") || "");
  var box = document.getElementById("idle-warning");
  if (!box || isNaN(until)) { return; }
  var lead = 2 * 60 * 1000;
  var wait = until - Date.now() - lead;
  window.setTimeout(function () {
    box.hidden = false;
    var button = box.querySelector("button");
    if (button) { button.focus(); }
  }, Math.max(wait, 0));
})();
