// Running sums of the assessment form, and the report's print button.
(function () {
  var form = document.getElementById("assess-form");
  if (form) {
    var update = function () {
      var total = 0, complete = true;
      form.querySelectorAll("fieldset[data-indicator]").forEach(function (fs) {
        var sum = 0, items = fs.querySelectorAll(".assess-item"), answered = 0;
        items.forEach(function (it) {
          var c = it.querySelector("input[type=radio]:checked");
          if (c) { sum += parseInt(c.value, 10); answered++; }
        });
        fs.querySelector(".subtotal").textContent = answered === items.length ? sum : sum + "（未答完）";
        if (answered < items.length) complete = false;
        total += sum;
      });
      document.getElementById("total").textContent = complete ? total : total + "（未答完）";
    };
    form.addEventListener("change", update);
    update();
  }
  document.querySelectorAll("[data-print]").forEach(function (b) {
    b.addEventListener("click", function () { window.print(); });
  });
})();
