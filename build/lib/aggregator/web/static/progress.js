// Poll a lookup job's status and reload the page when it has finished (the server renders the result).
(function () {
  var box = document.getElementById("progress");
  if (!box) return;
  var url = box.getAttribute("data-status-url");
  function poll() {
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (s) {
        box.querySelector("progress").max = s.total;
        box.querySelector("progress").value = s.done;
        box.querySelector(".step").textContent = s.step;
        box.querySelector(".elapsed").textContent = s.elapsed_seconds;
        if (s.state === "done" || s.state === "failed") { window.location.reload(); }
        else { setTimeout(poll, 500); }
      })
      .catch(function () { setTimeout(poll, 2000); });
  }
  setTimeout(poll, 300);
})();
