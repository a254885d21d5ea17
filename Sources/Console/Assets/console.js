// Tracebox console: the little that needs a script. Everything else works without it.
"use strict";

// Click an id to copy it.
document.addEventListener("click", (event) => {
  const target = event.target.closest("[data-copy]");
  if (!target || !navigator.clipboard) return;
  navigator.clipboard.writeText(target.dataset.copy).then(() => {
    target.classList.add("copied");
    setTimeout(() => target.classList.remove("copied"), 1200);
  });
});

// A running job's page polls its progress every second until the job ends.
function followJob(element) {
  const id = element.dataset.job;
  const set = (name, value) => { const cell = document.getElementById(name); if (cell) cell.textContent = value; };
  const tick = () => {
    fetch("/jobs/" + encodeURIComponent(id) + "/progress", { credentials: "same-origin", cache: "no-store" })
      .then((response) => response.ok ? response.json() : Promise.reject(response.status))
      .then((job) => {
        document.getElementById("job-progress").value = job.percent;
        set("job-percent", job.percent + "%");
        set("job-status", job.status);
        document.getElementById("job-status").className = "badge status-" + job.status;
        for (const name of ["selected", "done", "succeeded", "failed", "remaining"]) set("job-" + name, job[name]);
        set("job-rate", job.rate_now);
        set("job-eta", job.eta);
        if (job.active) { setTimeout(tick, 1000); } else { const cancel = document.getElementById("cancel-job"); if (cancel) cancel.closest("form").remove(); }
      })
      .catch(() => setTimeout(tick, 3000));
  };
  setTimeout(tick, 1000);
}

document.addEventListener("DOMContentLoaded", () => {
  const job = document.getElementById("job");
  if (job && job.dataset.active === "1") followJob(job);
});
