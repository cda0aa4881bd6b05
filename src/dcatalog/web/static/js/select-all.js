/* Verifying a school's whole file at once: tick one box instead of hundreds.
   <input type="checkbox" data-select-all="ids"> ticks every box named "ids". */
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("input[data-select-all]").forEach(function (all) {
    all.addEventListener("change", function () {
      var name = all.getAttribute("data-select-all");
      document.querySelectorAll('input[type="checkbox"]').forEach(function (box) {
        if (box.name === name) box.checked = all.checked;
      });
    });
  });
});
