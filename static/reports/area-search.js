// The report's area field suggests the areas whose name holds what is typed (tone marks
// and capitals aside), from the server, which knows the user's areas.
const input = document.querySelector("input[data-search]");
const list = document.getElementById(input.getAttribute("list"));
let timer;
input.addEventListener("input", () => {
  clearTimeout(timer);
  timer = setTimeout(async () => {
    if (input.value.trim().length < 2) return;
    const response = await fetch(`${input.dataset.search}?q=${encodeURIComponent(input.value)}`, { credentials: "same-origin" });
    if (!response.ok) return;
    const { areas } = await response.json();
    list.replaceChildren(...areas.map((area) => new Option(area.label, area.label)));
  }, 200);
});
