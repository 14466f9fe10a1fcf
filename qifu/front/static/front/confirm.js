// A confirmation step for forms that close or settle something: <form data-confirm="question">.
// The question opens in the page's <dialog id="confirm-dialog">; the form is sent only after 确认.
(function () {
  "use strict";
  var dialog = document.getElementById("confirm-dialog");
  if (!dialog || typeof dialog.showModal !== "function") return;  // no dialog support: forms send as before
  var pending = null;
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches("form[data-confirm]") || form.dataset.confirmed === "1") return;
    event.preventDefault();
    pending = { form: form, submitter: event.submitter || null };
    dialog.querySelector("[data-confirm-message]").textContent = form.dataset.confirm;
    dialog.showModal();
  }, true);
  dialog.querySelector("[data-confirm-ok]").addEventListener("click", function () {
    var p = pending;
    pending = null;
    dialog.close();
    if (!p) return;
    p.form.dataset.confirmed = "1";
    if (p.form.requestSubmit) { p.form.requestSubmit(p.submitter); } else { p.form.submit(); }
  });
  dialog.querySelector("[data-confirm-cancel]").addEventListener("click", function () {
    pending = null;
    dialog.close();
  });
})();
