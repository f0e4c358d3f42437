// Waybill dashboard behaviour that needs a script. Everything here is an
// improvement: every page works without it.
(function () {
  "use strict";

  // Forms with data-confirm ask before they are sent (archive, revoke, disable).
  document.addEventListener("submit", function (e) {
    var form = e.target;
    var msg = form && form.getAttribute && form.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) {
      e.preventDefault();
      e.stopImmediatePropagation();
    }
  }, true);

  // Buttons with data-copy="ID" copy the value of that input.
  document.addEventListener("click", function (e) {
    var btn = e.target.closest && e.target.closest("[data-copy]");
    if (!btn) return;
    var input = document.getElementById(btn.getAttribute("data-copy"));
    if (!input) return;
    var done = function () {
      var label = btn.textContent;
      btn.textContent = "Copied";
      setTimeout(function () { btn.textContent = label; }, 2000);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(done, function () { input.select(); });
    } else {
      input.select();
      try { if (document.execCommand("copy")) done(); } catch (err) { /* the text stays selected */ }
    }
  });

  // A secret field selects itself when focused, for copying by hand.
  document.addEventListener("focusin", function (e) {
    if (e.target.matches && e.target.matches("input.secret")) e.target.select();
  });
})();
