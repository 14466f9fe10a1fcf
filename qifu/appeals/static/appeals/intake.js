/* The intake form (登记诉求): more problems, on-the-spot fields (picking the enterprise: front/enterprise-pick.js). */
(function () {
  var form = document.getElementById("intake-form");
  var total = document.getElementById("id_problem-TOTAL_FORMS");
  document.getElementById("add-problem").addEventListener("click", function () {
    var n = parseInt(total.value, 10);
    var html = document.getElementById("problem-template").innerHTML.replace(/__prefix__/g, n);
    document.getElementById("problems").insertAdjacentHTML("beforeend", html);
    if (window.htmx) window.htmx.process(document.getElementById("problems").lastElementChild);
    total.value = n + 1;
    document.getElementById("id_problem-" + n + "-title").focus();
  });
  form.addEventListener("change", function (e) {
    if (e.target.name && /-on_spot$/.test(e.target.name)) {
      e.target.closest(".problem").querySelector(".on-spot-fields").classList.toggle("d-none", !e.target.checked);
    }
  });
  form.addEventListener("click", function (e) {
    var fill = e.target.closest("[data-fill-section]");
    if (fill) {  // the routing suggestion's "use this section": into this problem's section field
      var select = fill.closest(".problem").querySelector("select[name$='-section']");
      if (select) {
        select.value = fill.dataset.fillSection;
        select.classList.add("is-valid");
      }
      return;
    }
    if (!e.target.classList.contains("remove-problem")) return;
    var card = e.target.closest(".problem");
    card.querySelectorAll("input[type=text], textarea").forEach(function (el) { el.value = ""; });
    card.querySelectorAll("input[type=checkbox]").forEach(function (el) { el.checked = false; });
    card.classList.add("d-none");
  });
})();
