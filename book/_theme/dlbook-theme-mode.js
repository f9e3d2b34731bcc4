// sphinx-book-theme's page template omits the data-mode attribute that the pydata theme's script
// validates on load; without it the theme logs "Got invalid theme mode" as a console error.
document.documentElement.dataset.mode = localStorage.getItem("mode") || "auto";
