/* Two accessibility fixes for markup that the site's packages write.
 *
 * 1. Controls whose accessible name contains the words they show (WCAG 2.5.3, "Label in
 *    Name"; axe-core's rule label-content-name-mismatch). pydata-sphinx-theme 0.17's
 *    search field shows "Search this book... Ctrl+K" but is named "Search", and myst-nb
 *    1.4's "Show code cell source" toggles are named "Toggle hidden content": a
 *    speech-input user who says what they see cannot reach them. Without the
 *    aria-label the name is the visible text itself.
 * 2. The references page: docutils 0.21 writes a citation list as role="list" whose
 *    entries have role="doc-biblioentry", which ARIA 1.2 no longer counts as list items
 *    (axe-core: aria-required-children). Each entry becomes a listitem.
 *
 * No upstream issue was found for either (pydata-sphinx-theme, myst-nb, docutils
 * trackers, searched when this was written); report them there before removing this.
 * Remove this file and its line in _config.yml (html_js_files) once the packages do
 * this themselves; tests/test_website.py runs axe-core on every page.
 */
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll(
    ".search-button-field[aria-label], details > summary[aria-label]"
  ).forEach(function (control) {
    if (control.textContent.trim()) control.removeAttribute("aria-label");
  });
  document.querySelectorAll('[role="list"] > [role="doc-biblioentry"]').forEach(
    function (entry) { entry.setAttribute("role", "listitem"); }
  );
});
