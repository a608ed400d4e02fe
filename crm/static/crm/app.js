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
/* One tap copies a value (a WeChat id) and says so.  The clipboard API needs a secure
   context (https or localhost); over plain http a hidden text area and the copy command
   do the same. */
function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    return navigator.clipboard.writeText(text);
  }
  return new Promise(function (resolve, reject) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.top = "-1000px";
    document.body.appendChild(area);
    area.select();
    var copied = false;
    try { copied = document.execCommand("copy"); } catch (error) { copied = false; }
    document.body.removeChild(area);
    if (copied) { resolve(); } else { reject(new Error("copy refused")); }
  });
}
document.addEventListener("click", function (event) {
  var button = event.target.closest ? event.target.closest("button.js-copy") : null;
  if (!button) { return; }
  var label = button.getAttribute("data-label") || button.textContent;
  button.setAttribute("data-label", label);
  var status = button.nextElementSibling;
  function say(text, ok) {
    button.textContent = text;
    button.classList.toggle("btn-success", ok);
    if (status && status.getAttribute("role") === "status") { status.textContent = text; }
    window.setTimeout(function () {
      button.textContent = label;
      button.classList.remove("btn-success");
    }, 2000);
  }
  copyText(button.getAttribute("data-copy")).then(
    function () { say(button.getAttribute("data-copied"), true); },
    function () { say(button.getAttribute("data-failed"), false); }
  );
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
/* The one-step log: the next follow-up follows the kind logged until the rep picks its
   own, and the check-in box is offered for a visit only. */
function fitLogForm(form) {
  var kind = form.querySelector("select[name='kind']");
  if (!kind) { return; }
  var next = form.querySelector("select[name='next-kind']");
  if (next && next.getAttribute("data-picked") !== "1") { next.value = kind.value; }
  var box = form.querySelector("input[name='check_in']");
  var holder = box ? box.closest("[class*='col-']") : null;
  if (holder) {
    holder.hidden = kind.value !== "visit";
    if (holder.hidden) { box.checked = false; }
  }
}
document.addEventListener("change", function (event) {
  var form = event.target.form;
  if (!form || form.getAttribute("data-check-in") !== "box") { return; }
  if (event.target.name === "next-kind") { event.target.setAttribute("data-picked", "1"); }
  if (event.target.name === "kind") { fitLogForm(form); }
});
function fitLogForms() { document.querySelectorAll("form[data-check-in='box']").forEach(fitLogForm); }
document.addEventListener("htmx:afterSettle", fitLogForms);
fitLogForms();
/* A merge: choosing the customer to keep proposes its values, except where only the
   other side has one, or where the person picked a value themselves. */
document.addEventListener("change", function (event) {
  var form = event.target.form;
  if (!form || form.id !== "merge-form") { return; }
  if (event.target.name !== "keep") {
    document.querySelectorAll("input[form='merge-form'][name='" + event.target.name + "']").forEach(function (radio) {
      radio.setAttribute("data-picked", "1");
    });
    return;
  }
  var kept = event.target.value;
  document.querySelectorAll("input[form='merge-form'][data-side='" + kept + "']").forEach(function (mine) {
    if (mine.getAttribute("data-picked") === "1") { return; }
    var other = document.querySelector("input[form='merge-form'][name='" + mine.name + "'][data-side]:not([data-side='" + kept + "'])");
    var takeOther = other && mine.getAttribute("data-empty") === "1" && other.getAttribute("data-empty") !== "1";
    (takeOther ? other : mine).checked = true;
  });
});
