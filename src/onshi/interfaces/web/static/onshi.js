// Progressive enhancement only: every page works without it.
document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("[data-print]")) {
    button.addEventListener("click", () => window.print());
  }
  // After a rejected form, take the keyboard to the list of errors.
  const summary = document.getElementById("error-summary");
  if (summary) summary.focus();
  const done = document.getElementById("result");
  if (!summary && done) done.focus();
});
