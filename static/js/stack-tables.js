// On a phone every table is shown as stacked rows (kapcare.css); each cell gets its column's heading as
// data-label so it still says what it is. Progressive: without this script the rows stack unlabelled.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("table").forEach(function (table) {
    var heads = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) {
      return th.textContent.trim();
    });
    if (!heads.length) return;
    table.querySelectorAll("tbody tr").forEach(function (row) {
      Array.prototype.forEach.call(row.children, function (cell, index) {
        if (!cell.hasAttribute("data-label") && heads[index] && cell.tagName === "TD") {
          cell.setAttribute("data-label", heads[index]);
        }
      });
    });
  });
});
