/* "Select all" for a list of checkboxes (progressive enhancement).
 *
 * A container marked data-select-all="NAME" (hidden in the page) holds one checkbox; this
 * script shows it and makes it check or clear every checkbox named NAME in the same form.
 * It follows the individual boxes (checked, cleared, or mixed = indeterminate), and, when
 * data-count names an element, says there how many are chosen (a polite live region).
 * Without JavaScript the container stays hidden and the individual checkboxes work as ever.
 */
(function () {
  "use strict";

  function setUp(box) {
    var name = box.getAttribute("data-select-all");
    var all = box.querySelector('input[type="checkbox"]');
    var form = all && all.form;
    if (!form) return;
    var count = document.getElementById(box.getAttribute("data-count") || "");
    var template = count ? count.getAttribute("data-template") || "" : "";

    function boxes() {
      return Array.prototype.filter.call(form.elements, function (el) {
        return el.type === "checkbox" && el.name === name && !el.disabled;
      });
    }

    function update() {
      var list = boxes();
      var n = list.filter(function (el) { return el.checked; }).length;
      all.checked = list.length > 0 && n === list.length;
      all.indeterminate = n > 0 && n < list.length;
      if (count && template) {
        count.textContent = template.replace("{n}", String(n));
        count.hidden = false;
      }
    }

    all.addEventListener("change", function () {
      boxes().forEach(function (el) { el.checked = all.checked; });
      update();
    });
    form.addEventListener("change", function (event) {
      if (event.target !== all && event.target.name === name) update();
    });
    box.hidden = false;
    update();
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-select-all]"), setUp);
})();
