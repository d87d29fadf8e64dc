// Optional enhancement: on phones, fold the filter panel until the reader opens it.
// Without this script the panel is simply open; every page works without it.
(function () {
  if (!window.matchMedia || !window.matchMedia("(max-width: 52rem)").matches) return;
  document.querySelectorAll("details.filters[data-fold-on-phone]").forEach(function (panel) {
    panel.removeAttribute("open");
  });
})();
