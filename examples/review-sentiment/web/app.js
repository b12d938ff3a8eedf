// Sends the review to the API whose URL the orchestrator wrote into config.js and shows
// BlazingText's top label: the answer is [{"label": ["__label__positive"], "prob": [0.97]}].
const form = document.getElementById("review-form");
const review = document.getElementById("review");
const result = document.getElementById("result");

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  result.textContent = "Asking the model…";
  result.className = "";
  delete result.dataset.label;
  try {
    const response = await fetch(`${window.APP_CONFIG.apiUrl}/sentiment`, {
      method: "POST",
      headers: { "Content-Type": "application/json; charset=utf-8" },
      body: JSON.stringify({ sentences: [{ query: review.value }] }),
    });
    const answer = await response.json();
    if (!response.ok) throw new Error(answer.error || answer.message || response.statusText);
    const label = answer[0].label[0].replace("__label__", "");
    const probability = answer[0].prob[0];
    result.textContent = `${label} (${(probability * 100).toFixed(1)}% sure)`;
    result.dataset.label = label;
    result.className = `answer ${label}`;
  } catch (error) {
    result.textContent = `Something went wrong: ${error.message}`;
    result.className = "error";
  }
});
