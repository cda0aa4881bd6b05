/* Upload forms (deed imports, eligibility reports): htmx shows the file's upload,
   then the job's partial shows the work itself. A file served from /static, not an
   inline script, so the Content-Security-Policy can forbid inline scripts. */
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("form[data-upload-progress]").forEach(function (form) {
    var box = form.querySelector(".upload-progress");
    var bar = form.querySelector("progress");
    htmx.on(form, "htmx:xhr:progress", function (evt) {
      if (!evt.detail.lengthComputable || !box || !bar) return;
      box.hidden = false;
      bar.setAttribute("value", evt.detail.loaded / evt.detail.total * 100);
    });
    htmx.on(form, "htmx:afterRequest", function () {
      if (box) box.hidden = true;
    });
    // A file refused at once (422) is explained where the result goes. htmx fires
    // beforeSwap on the target (outside the form), so listen on the body for this form's requests.
    htmx.on(document.body, "htmx:beforeSwap", function (evt) {
      if (evt.detail.requestConfig.elt !== form || evt.detail.xhr.status !== 422) return;
      evt.detail.shouldSwap = true;
      evt.detail.isError = false;
    });
  });
});
