// The console page's elements and limits, as the template gives them.

export const $ = (id) => document.getElementById(id);
export const root = $("console");
export const maxChars = Number(root.dataset.maxChars);

// Why a line can't be sent, in the words the server would use, or null.
export function lineProblem(text) {
  if (!text.trim()) return "A message can't be empty.";
  if (text.length > maxChars) {
    return `A message can be at most ${maxChars.toLocaleString()} characters; this one has ${text.length.toLocaleString()}.`;
  }
  return null;
}
