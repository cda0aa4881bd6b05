/* Swagger UI of /api/docs, started from a file rather than FastAPI's inline script
   so the Content-Security-Policy can forbid inline scripts. The page's
   <div id="swagger-ui" data-openapi-url="..."> says where the description is. */
window.addEventListener("DOMContentLoaded", function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.getAttribute("data-openapi-url"),
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset]
  });
});
