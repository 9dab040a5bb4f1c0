// The lookup form offers only the chosen carrier's declared checks (the server renders the first
// choice; this follows later choices). A check the carrier cannot answer is disabled and says so.
(function () {
  var select = document.getElementById("carrier");
  var box = document.getElementById("checks");
  if (!select || !box) return;
  function follow() {
    var option = select.options[select.selectedIndex];
    var declared = (option ? option.getAttribute("data-checks") || "" : "").split(" ");
    box.querySelectorAll("label[data-check]").forEach(function (label) {
      var offered = declared.indexOf(label.getAttribute("data-check")) >= 0;
      var input = label.querySelector("input");
      input.disabled = !offered;
      if (!offered) input.checked = false;
      label.querySelector(".not-available").hidden = offered;
    });
  }
  select.addEventListener("change", follow);
  follow();
})();
