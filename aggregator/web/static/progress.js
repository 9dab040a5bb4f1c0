// Poll a job's status (a lookup or an attended sign-in) and reload the page when it has finished (the server
// renders the result). While the portal asks the person something, show it: the code form for a code sent by
// text or e-mail, "approve on your phone" for a push request.
(function () {
  var box = document.getElementById("progress");
  if (!box) return;
  var url = box.getAttribute("data-status-url");
  var focused = false;
  function show(id, visible) {
    var el = document.getElementById(id);
    if (el) { el.hidden = !visible; }
  }
  function showPrompt(prompt) {
    var panel = document.getElementById("person-prompt");
    if (!panel) return;
    panel.hidden = !prompt;
    if (!prompt) { focused = false; return; }
    panel.setAttribute("data-step", prompt.step);
    panel.querySelector(".prompt-portal").textContent = prompt.portal;
    document.getElementById("prompt-message").textContent = prompt.message;
    panel.querySelector(".seconds-left").textContent = prompt.seconds_left;
    var push = prompt.step === "push_approval";
    show("push-waiting", push);
    show("code-form", !push);
    if (!push && !focused) { document.getElementById("signin-code").focus(); focused = true; }
  }
  function poll() {
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (s) {
        var bar = box.querySelector("progress");
        if (bar) { bar.max = s.total; bar.value = s.done; }
        if (s.step) { box.querySelector(".step").textContent = s.step; }
        box.querySelector(".elapsed").textContent = s.elapsed_seconds;
        showPrompt(s.prompt);
        if (s.state === "done" || s.state === "failed") { window.location.reload(); }
        else { setTimeout(poll, 500); }
      })
      .catch(function () { setTimeout(poll, 2000); });
  }
  setTimeout(poll, 300);
})();
