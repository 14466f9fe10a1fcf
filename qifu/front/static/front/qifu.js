/* Behaviour shared by every page, wired by data attributes: the Content-Security-Policy allows no
   inline script, so templates carry no <script> blocks, on…= handlers or javascript: links. */
(function () {
  "use strict";

  // <select data-autosubmit>: choosing an option submits its form (list filters).
  document.addEventListener("change", function (e) {
    var el = e.target;
    if (el.matches && el.matches("select[data-autosubmit]") && el.form) { el.form.submit(); }
  });

  // <input type=checkbox data-select-all="CSS selector">: ticks or clears every box the selector finds.
  document.addEventListener("change", function (e) {
    var el = e.target;
    if (!el.matches || !el.matches("input[data-select-all]")) { return; }
    document.querySelectorAll(el.dataset.selectAll).forEach(function (box) { box.checked = el.checked; });
  });

  // <form data-confirm="question">: the confirmation dialog is front/confirm.js.

  // <form data-bs-fields>: Bootstrap classes on the fields Django renders plainly.
  function styleFields(root) {
    root.querySelectorAll("form[data-bs-fields]").forEach(function (form) {
      form.querySelectorAll("input:not([type=checkbox]):not([type=radio]):not([type=hidden]), select, textarea").forEach(function (el) {
        el.classList.add(el.tagName === "SELECT" ? "form-select" : "form-control");
      });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { styleFields(document); });
  } else { styleFields(document); }
})();
