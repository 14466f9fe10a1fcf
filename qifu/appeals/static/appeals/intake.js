/* The intake form (登记诉求): more problems, picking the enterprise, on-the-spot fields. */
(function () {
  var form = document.getElementById("intake-form");
  var total = document.getElementById("id_problem-TOTAL_FORMS");
  var uscc = document.getElementById("id_enterprise_uscc");
  var search = document.getElementById("id_enterprise_q");
  var picked = document.getElementById("enterprise-picked");
  var matches = document.getElementById("enterprise-matches");
  document.getElementById("add-problem").addEventListener("click", function () {
    var n = parseInt(total.value, 10);
    var html = document.getElementById("problem-template").innerHTML.replace(/__prefix__/g, n);
    document.getElementById("problems").insertAdjacentHTML("beforeend", html);
    if (window.htmx) window.htmx.process(document.getElementById("problems").lastElementChild);
    total.value = n + 1;
    document.getElementById("id_problem-" + n + "-title").focus();
  });
  search.addEventListener("input", function () {
    uscc.value = "";
    picked.classList.add("d-none");
  });
  matches.addEventListener("click", function (e) {
    var button = e.target.closest("[data-pick-uscc]");
    if (!button) return;
    uscc.value = button.dataset.pickUscc;
    search.value = button.dataset.pickName;
    picked.querySelector("span").textContent = button.dataset.pickName;
    picked.querySelector("code").textContent = button.dataset.pickUscc;
    picked.classList.remove("d-none");
    matches.innerHTML = "";
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
