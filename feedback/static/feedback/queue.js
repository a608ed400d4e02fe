// The queues' "select all" box ticks or clears every row of the page for a bulk change;
// the bulk form says how many rows are selected.
(function () {
  function count(form) {
    var shown = document.querySelector("[data-selected-for='" + form + "']");
    if (shown) {
      shown.textContent = document.querySelectorAll("input[name='ids'][form='" + form + "']:checked").length;
    }
  }
  document.querySelectorAll("input.js-select-all").forEach(function (box) {
    box.addEventListener("change", function () {
      document.querySelectorAll("input[name='ids'][form='" + box.dataset.form + "']").forEach(function (row) {
        row.checked = box.checked;
      });
      count(box.dataset.form);
    });
  });
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches && target.matches("input[name='ids'][form]")) {
      count(target.getAttribute("form"));
    }
  });
})();
