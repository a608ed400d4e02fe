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
/* A visit's check-in: before such a form is sent, ask the phone where it is (with the
   user's permission), put the place in the form, then send it.  Refused or unavailable,
   the form is sent without a place: the visit is still logged.  Without scripts the
   form is sent as it is, without a place, too. */
document.addEventListener("submit", function (event) {
  var form = event.target;
  var mode = form.getAttribute && form.getAttribute("data-check-in");
  if (!mode || form.getAttribute("data-located") === "1") { return; }
  if (mode === "box") {
    var box = form.querySelector("input[name='check_in']");
    if (!box || !box.checked) { return; }
  }
  event.preventDefault();
  event.stopImmediatePropagation();
  var status = form.querySelector("[data-check-in-status]");
  function field(name) { return form.querySelector("input[name='" + name + "']"); }
  function send(note) {
    if (status && note) { status.textContent = status.getAttribute(note); }
    form.setAttribute("data-located", "1");
    if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
  }
  if (!navigator.geolocation) {
    field("location_status").value = "unavailable";
    send("data-refused");
    return;
  }
  if (status) { status.textContent = status.getAttribute("data-asking"); }
  navigator.geolocation.getCurrentPosition(
    function (position) {
      field("latitude").value = position.coords.latitude;
      field("longitude").value = position.coords.longitude;
      field("accuracy").value = Math.round(position.coords.accuracy);
      field("location_status").value = "shared";
      send("data-found");
    },
    function (error) {
      field("location_status").value = error.code === 1 ? "denied" : "unavailable";
      send("data-refused");
    },
    { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 }
  );
}, true);
/* A refused form comes back to be sent again: it asks for the place again then. */
document.addEventListener("htmx:afterSwap", function () {
  document.querySelectorAll("form[data-located='1']").forEach(function (form) { form.removeAttribute("data-located"); });
});
