// Progressive enhancement for every page; each page works without it.
(function () {
  "use strict";

  function format(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_m, key) { return values[key]; });
  }

  // Character counters under long text fields (the server refuses what is too long).
  document.querySelectorAll("textarea[data-maxlength]").forEach(function (area) {
    var counter = document.getElementById(area.id + "-counter");
    if (!counter) return;
    var limit = parseInt(area.getAttribute("data-maxlength"), 10);
    function update() {
      var count = area.value.length;
      var over = count > limit;
      counter.textContent = format(counter.getAttribute(over ? "data-over" : "data-template"),
        {count: count, limit: limit, extra: count - limit});
      counter.classList.toggle("over", over);
    }
    area.addEventListener("input", update);
    update();
  });

  // Destructive actions ask first.
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
    });
  });

  // An assignee list offers only the members of the department chosen beside it.
  document.querySelectorAll("select[data-members-of]").forEach(function (assignee) {
    var department = document.getElementById(assignee.getAttribute("data-members-of"));
    if (!department) return;
    function filter() {
      var chosen = department.value;
      assignee.querySelectorAll("option[data-department]").forEach(function (option) {
        var fits = chosen !== "" && option.getAttribute("data-department") === chosen;
        option.hidden = !fits;
        option.disabled = !fits;
        if (!fits && option.selected) assignee.value = "";
      });
    }
    department.addEventListener("change", filter);
    filter();
  });

  // Long text folds away behind "show all".
  document.querySelectorAll("[data-collapsible]").forEach(function (block) {
    if (block.scrollHeight <= block.clientHeight + 4) {
      block.classList.remove("collapsed");
      var lone = block.parentNode.querySelector(".expand[data-for='" + block.id + "']");
      if (lone) lone.remove();
    }
  });
  document.querySelectorAll("button.expand").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var block = document.getElementById(button.getAttribute("data-for"));
      var collapsed = block.classList.toggle("collapsed");
      button.textContent = button.getAttribute(collapsed ? "data-more" : "data-less");
      button.setAttribute("aria-expanded", String(!collapsed));
    });
  });
})();
