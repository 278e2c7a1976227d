/* Fill the invitation-code field from a link such as /s/5#code=7KQ2M-9XP4T.
   The part after '#' never reaches the server or its logs; once read it is also removed from
   the address bar, so the code is not kept in the browser history or shared by copying the URL.
   Without JavaScript the resident types the code, as printed on the invitation. */
(function () {
  "use strict";
  function fill() {
    var match = /(?:^#|&)code=([^&]*)/.exec(window.location.hash);
    if (!match) { return; }
    var field = document.getElementById("code");
    if (field && !field.value) {
      try { field.value = decodeURIComponent(match[1].replace(/\+/g, " ")); }
      catch (e) { field.value = match[1]; }
    }
    if (window.history && window.history.replaceState) {
      window.history.replaceState(null, "", window.location.pathname + window.location.search);
    }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", fill);
  } else {
    fill();
  }
}());
