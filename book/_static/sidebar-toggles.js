/* Make the header's sidebar buttons work (menu and "On this page").
 *
 * Workaround for pydata-sphinx-theme issue #2451 (also sphinx-book-theme #999 and
 * #935): the theme scripts bind their click handlers with
 * document.querySelector(".primary-toggle") and (".secondary-toggle"), i.e. to the
 * first such button in the page, which sphinx-book-theme hides; the buttons a reader
 * sees do nothing, at every width. This forwards a click on any other toggle button
 * to the first one, whose handlers open the sidebar dialog on a phone and collapse the
 * sidebar on a wide screen. Remove this file and its line in _config.yml
 * (html_js_files) once the themes bind every button; tests/test_website.py checks
 * that both buttons open their panels.
 */
document.addEventListener("click", function (event) {
  ["primary-toggle", "secondary-toggle"].forEach(function (name) {
    var clicked = event.target.closest && event.target.closest("." + name);
    var bound = document.querySelector("." + name);
    if (clicked && bound && clicked !== bound) {
      event.preventDefault();
      event.stopPropagation();
      bound.click();
    }
  });
}, true);
