// Patron-facing text in the page scripts goes through these three, so that it
// can be translated: gettext("Send"), ngettext("%s line", "%s lines", n),
// interpolate("%s is typing…", [name]). The translations come from Django's
// JavaScriptCatalog when the page loads it (it defines globalThis.django);
// without it the English text is used as it is.

function catalog() {
  return globalThis.django || {};
}

export function gettext(text) {
  const django = catalog();
  return django.gettext ? django.gettext(text) : text;
}

export function ngettext(singular, plural, count) {
  const django = catalog();
  if (django.ngettext) return django.ngettext(singular, plural, count);
  return count === 1 ? singular : plural;
}

export function interpolate(format, values, named = false) {
  const django = catalog();
  if (django.interpolate) return django.interpolate(format, values, named);
  if (named) return format.replace(/%\(\w+\)s/g, (match) => String(values[match.slice(2, -2)]));
  let index = 0;
  return format.replace(/%s/g, () => String(values[index++]));
}
