// Builds the row the `prepare` step's features describe (sex one-hot M, F, I, then the seven
// measurements), sends it to the API whose URL the orchestrator wrote into config.js, and
// shows the predicted ring count: the answer is {"predictions": [rings]}.
const SEXES = ["M", "F", "I"];
const MEASUREMENTS = [
  "length", "diameter", "height", "whole_weight", "shucked_weight", "viscera_weight", "shell_weight",
];
const form = document.getElementById("shell-form");
const result = document.getElementById("result");

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  result.textContent = "Asking the model…";
  result.className = "";
  delete result.dataset.rings;
  const sex = document.getElementById("sex").value;
  const row = [
    ...SEXES.map((s) => (s === sex ? 1 : 0)),
    ...MEASUREMENTS.map((name) => Number(document.getElementById(name).value)),
  ];
  try {
    const response = await fetch(`${window.APP_CONFIG.apiUrl}/predict`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ instances: [row] }),
    });
    const answer = await response.json();
    if (!response.ok) throw new Error(answer.message || response.statusText);
    const rings = answer.predictions[0];
    result.textContent = `about ${rings.toFixed(1)} rings: ${(rings + 1.5).toFixed(1)} years old`;
    result.dataset.rings = String(rings);
    result.className = "answer";
  } catch (error) {
    result.textContent = `Something went wrong: ${error.message}`;
    result.className = "error";
  }
});
