/* Picking an enterprise from the live matches (the intake form, the front desk's registration): a match's button
   fills the hidden USCC field; typing again clears it. */
(function () {
  var uscc = document.getElementById("id_enterprise_uscc");
  var search = document.getElementById("id_enterprise_q");
  var picked = document.getElementById("enterprise-picked");
  var matches = document.getElementById("enterprise-matches");
  if (!search || !uscc || !matches) return;
  search.addEventListener("input", function () {
    uscc.value = "";
    if (picked) picked.classList.add("d-none");
  });
  matches.addEventListener("click", function (e) {
    var button = e.target.closest("[data-pick-uscc]");
    if (!button) return;
    uscc.value = button.dataset.pickUscc;
    search.value = button.dataset.pickName;
    if (picked) {
      picked.querySelector("span").textContent = button.dataset.pickName;
      picked.querySelector("code").textContent = button.dataset.pickUscc;
      picked.classList.remove("d-none");
    }
    matches.innerHTML = "";
  });
})();
