// The console's only script. Pages work without it; it adds rows to a
// table, checks amounts as they are typed and refreshes live views. Served from /console/assets/.
"use strict";

// Same rule as model::Money: digits, optional minus and thousands commas,
// at most two decimals.
const MONEY = /^-?[0-9][0-9,]*(\.[0-9]{1,2})?$/;

function checkMoney(input) {
  const v = input.value.trim();
  const ok = v === "" || MONEY.test(v);
  input.setAttribute("aria-invalid", ok ? "false" : "true");
  const note = document.getElementById(input.id + "-error");
  if (note) note.textContent = ok ? "" : "金额格式不对：只填数字，最多两位小数，如 1234.50";
  return ok;
}

function wireMoney(root) {
  root.querySelectorAll("input[data-money]").forEach((input) => {
    input.addEventListener("input", () => checkMoney(input));
  });
}

function addRow(button) {
  const table = document.getElementById(button.dataset.addRow);
  if (!table) return;
  const body = table.tBodies[0];
  const last = body.rows[body.rows.length - 1];
  const index = body.rows.length;
  const row = last.cloneNode(true);
  row.querySelectorAll("input").forEach((input) => {
    input.value = "";
    input.setAttribute("aria-invalid", "false");
    input.name = input.name.replace(/^cell_\d+_/, "cell_" + index + "_");
    input.id = input.id.replace(/^cell_\d+_/, "cell_" + index + "_");
  });
  row.querySelectorAll(".field-error").forEach((note) => {
    note.textContent = "";
    note.id = note.id.replace(/^cell_\d+_/, "cell_" + index + "_");
  });
  const rows = document.getElementById("rows");
  if (rows) rows.value = String(index + 1);
  body.appendChild(row);
  wireMoney(row);
  const first = row.querySelector("input");
  if (first) first.focus();
}

function refreshLive(box) {
  fetch(box.dataset.live, { credentials: "same-origin", cache: "no-store" })
    // An ended session redirects to the login page: keep the last view.
    .then((r) => (r.ok && !r.redirected ? r.text() : Promise.reject(r.status)))
    .then((html) => { box.innerHTML = html; box.dataset.updated = String(Date.now()); })
    .catch(() => {});
}

document.addEventListener("DOMContentLoaded", () => {
  wireMoney(document);
  document.querySelectorAll("button[data-add-row]").forEach((b) => {
    b.addEventListener("click", (e) => { e.preventDefault(); addRow(b); });
  });
  document.querySelectorAll("[data-live]").forEach((box) => {
    setInterval(() => refreshLive(box), 2000);
  });
});
