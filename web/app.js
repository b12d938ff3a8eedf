// Sends the measurements to the API whose URL the orchestrator wrote into config.js.
const form = document.getElementById("measure");
const result = document.getElementById("result");

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const measurements = Object.fromEntries(
    [...new FormData(form)].map(([name, value]) => [name, Number(value)])
  );
  result.textContent = "Asking the model…";
  result.className = "";
  try {
    const response = await fetch(`${window.APP_CONFIG.apiUrl}/predict`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ measurements }),
    });
    const answer = await response.json();
    if (!response.ok) throw new Error(answer.error || answer.message || response.statusText);
    result.textContent = `${answer.species} (confidence ${(answer.confidence * 100).toFixed(1)}%)`;
    result.className = "answer";
  } catch (error) {
    result.textContent = `Something went wrong: ${error.message}`;
    result.className = "error";
  }
});
