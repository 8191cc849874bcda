// The server's settings for the survey app (hazards/survey.py), given in the page.
export const config = JSON.parse(document.getElementById("survey-config").textContent);
