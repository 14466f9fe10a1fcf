/* Registering a visitor: picking the enterprise from the live matches. */
(function () {
  var uscc = document.getElementById("id_enterprise_uscc");
  var search = document.getElementById("id_enterprise_q");
  var picked = document.getElementById("enterprise-picked");
  var matches = document.getElementById("enterprise-matches");
  if (!search) return;
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
})();
