// The workbench's YAML editor: keeps the line numbers beside the text as it changes, and takes a
// click on a diagnostic's "line N" to that line. Without this script the page works the same,
// with the numbers of the text as it was sent.
(function () {
  "use strict";
  var text = document.getElementById("teks");
  var gutter = document.getElementById("gutter");
  if (!text || !gutter) { return; }
  var marks = {};
  Array.prototype.forEach.call(gutter.querySelectorAll("span.mark"), function (span) {
    marks[span.textContent] = span.className + "|" + (span.getAttribute("title") || "");
  });

  function grow() {
    text.style.height = "auto";
    text.style.height = text.scrollHeight + "px";
  }

  function renumber() {
    var count = text.value.split("\n").length;
    if (gutter.childElementCount === count) { return; }
    var fragment = document.createDocumentFragment();
    for (var n = 1; n <= count; n += 1) {
      var span = document.createElement("span");
      span.textContent = String(n);
      if (marks[n] && count === gutter.childElementCount) {
        var parts = marks[n].split("|");
        span.className = parts[0];
        span.title = parts[1];
      }
      fragment.appendChild(span);
      fragment.appendChild(document.createTextNode("\n"));
    }
    gutter.textContent = "";
    gutter.appendChild(fragment);
  }

  function goTo(line) {
    var lines = text.value.split("\n");
    var start = 0;
    for (var i = 0; i < line - 1 && i < lines.length; i += 1) { start += lines[i].length + 1; }
    var end = start + (lines[line - 1] || "").length;
    text.focus();
    text.setSelectionRange(start, end);
    var lineHeight = text.scrollHeight / Math.max(lines.length, 1);
    text.parentElement.scrollTop = Math.max(0, (line - 3) * lineHeight);
  }

  text.addEventListener("input", function () { renumber(); grow(); });
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a[data-baris]") : null;
    if (!link) { return; }
    event.preventDefault();
    goTo(parseInt(link.getAttribute("data-baris"), 10));
  });
  grow();
}());
