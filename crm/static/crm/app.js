/* Small behaviours that work without it too: pages stay usable with scripts off. */
"use strict";
document.querySelectorAll("form.js-language select").forEach(function (select) {
  select.addEventListener("change", function () { select.form.submit(); });
});
/* Colour a policy cell by its level, so the grid reads at a glance. */
function paintLevel(select) {
  var cell = select.closest("td");
  if (!cell) { return; }
  cell.classList.remove("level-hidden", "level-masked", "level-read", "level-write");
  cell.classList.add("level-" + select.value);
  var reveal = cell.querySelector(".js-reveal");
  if (reveal) { reveal.hidden = select.value !== "masked"; }
}
document.querySelectorAll("select.js-level").forEach(function (select) {
  paintLevel(select);
  select.addEventListener("change", function () { paintLevel(select); });
});
/* Ask before an irreversible act (revoking a token). */
document.querySelectorAll("form[data-confirm]").forEach(function (form) {
  form.addEventListener("submit", function (event) {
    if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
  });
});
