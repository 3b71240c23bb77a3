// Clicking a step lights up every step of the same run that touched the
// same Redis key or row; clicking it again puts the lights out.
(function () {
  "use strict";
  document.querySelectorAll("table.lanes").forEach(function (table) {
    table.addEventListener("click", function (ev) {
      var entry = ev.target.closest(".entry");
      if (!entry) {
        return;
      }
      var key = entry.getAttribute("data-key");
      var on = !entry.classList.contains("lit");
      table.querySelectorAll(".entry.lit").forEach(function (e) {
        e.classList.remove("lit");
      });
      if (!on || !key) {
        return;
      }
      table.querySelectorAll(".entry").forEach(function (e) {
        if (e.getAttribute("data-key") === key) {
          e.classList.add("lit");
        }
      });
    });
  });
  document.body.setAttribute("data-ready", "1");
})();
