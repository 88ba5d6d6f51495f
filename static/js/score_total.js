/* A running total of a form's scores (the pre-assessment opinion, issue 21), as the score
 * sheet keeps its own: every <output data-score-total> shows the sum of the inputs marked
 * data-score in its form, updated as they are typed. Blank or unreadable inputs count 0. */
(function () {
  "use strict";

  function update(form) {
    var out = form.querySelector("[data-score-total]");
    if (!out) return;
    var total = 0;
    var inputs = form.querySelectorAll("input[data-score]");
    for (var i = 0; i < inputs.length; i++) {
      var v = parseFloat(inputs[i].value);
      if (!isNaN(v)) total += v;
    }
    out.textContent = String(Math.round(total * 10) / 10);
  }

  var outputs = document.querySelectorAll("[data-score-total]");
  for (var i = 0; i < outputs.length; i++) {
    var form = outputs[i].closest("form");
    if (!form) continue;
    form.addEventListener("input", function (event) {
      if (event.target.matches("input[data-score]")) update(event.currentTarget);
    });
    update(form);
  }
})();
