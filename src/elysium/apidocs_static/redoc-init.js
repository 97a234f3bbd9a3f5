// Starts ReDoc on /redoc; a served file so that the page's CSP needs no inline script.
Redoc.init("/openapi.json", {}, document.getElementById("redoc"));
