// Kinerja's own small enhancements; every page works without them.
(function () {
  "use strict";
  var print = document.getElementById("cetak");
  if (print) {
    print.hidden = false;
    print.addEventListener("click", function () { window.print(); });
  }
  var send = document.getElementById("kirim-form");
  if (send) {
    send.addEventListener("submit", function () {
      // The server stores a file once whatever happens; this only spares a second wait.
      var button = send.querySelector("button[name=kirim]");
      setTimeout(function () { button.disabled = true; }, 0);
    });
  }
})();
