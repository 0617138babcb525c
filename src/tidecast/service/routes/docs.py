"""``GET /docs``: the API reference, served whole by the service, so it renders offline.

FastAPI's default page loads Swagger UI from a CDN and is blank on a network without one (a
self-hosted service often has none). Swagger UI 5 is served from the ``fastapi-offline``
package (a dependency, used only for its copy of Swagger UI's files) under ``/docs/assets``,
with the online validator badge turned off. (``swagger-ui-bundle`` is not used: its latest
release ships Swagger UI 4.15, which answers FastAPI's OpenAPI 3.1 schema with "Unable to
render this definition".) Where the package is missing (an environment installed before it was
a dependency), ``/docs`` is a small page of our own that reads ``/openapi.json`` and lists every
operation with its parameters, body schema, example and answers. Neither loads anything from
another host.
"""

from __future__ import annotations

import json
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = "/docs/assets"


def swagger_assets() -> Path | None:
    """The folder of Swagger UI's files from the ``fastapi-offline`` package, if installed."""
    import importlib.resources

    try:
        folder = Path(str(importlib.resources.files("fastapi_offline") / "static"))
    except ModuleNotFoundError:
        return None
    return folder if (folder / "swagger-ui-bundle.js").is_file() else None


def install_docs(app: FastAPI, openapi_url: str = "/openapi.json") -> None:
    """Serve ``/docs`` on `app` (created with ``docs_url=None, redoc_url=None``)."""
    router = APIRouter(include_in_schema=False)
    assets = swagger_assets()
    if assets is not None:
        app.mount(ASSETS, StaticFiles(directory=assets), name="docs-assets")

        @router.get("/docs")
        def swagger() -> HTMLResponse:
            return get_swagger_ui_html(
                openapi_url=openapi_url,
                title=f"{app.title} API",
                swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
                swagger_css_url=f"{ASSETS}/swagger-ui.css",
                swagger_favicon_url=f"{ASSETS}/favicon.png",
                # Swagger UI's default validator badge is an image from validator.swagger.io.
                swagger_ui_parameters={"validatorUrl": None},
            )

    else:

        @router.get("/docs")
        def reference() -> HTMLResponse:
            return HTMLResponse(
                _PAGE.replace("__OPENAPI__", json.dumps(openapi_url)).replace("__TITLE__", app.title)
            )

    app.include_router(router)


# No external host: styles and script inline, the schema fetched from this service.
_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>__TITLE__ API</title>
<style>
body{font:15px/1.45 system-ui,sans-serif;margin:2em auto;max-width:60em;padding:0 1em;color:#222}
h2{border-bottom:1px solid #ddd;margin-top:1.6em} details{margin:.4em 0;border:1px solid #e3e3e3;border-radius:4px}
summary{cursor:pointer;padding:.4em .6em} code,pre{font:13px ui-monospace,monospace}
pre{background:#f6f8fa;padding:.6em;overflow:auto} .m{display:inline-block;width:4.5em;font-weight:bold}
.get{color:#0a7} .post{color:#06c} .delete{color:#c33} .put,.patch{color:#a60} .body{padding:0 .8em .6em}
</style></head><body>
<h1>__TITLE__ API</h1><p id="info">Loading the schema…</p><div id="ops"></div>
<script>
const esc = s => String(s).replace(/[&<>"]/g, c => ({"&":"&amp;","<":"&lt;",">":"&gt;",'"':"&quot;"}[c]));
const show = v => "<pre>" + esc(JSON.stringify(v, null, 2)) + "</pre>";
fetch(__OPENAPI__).then(r => r.json()).then(spec => {
  document.getElementById("info").innerHTML = esc(spec.info.summary || "") + " Version " +
    esc(spec.info.version) + '. The schema: <a href="' + esc(__OPENAPI__) + '">openapi.json</a>.';
  const byTag = {};
  for (const [path, ops] of Object.entries(spec.paths))
    for (const [method, op] of Object.entries(ops))
      (byTag[(op.tags || ["other"])[0]] ||= []).push([method, path, op]);
  let html = "";
  for (const [tag, ops] of Object.entries(byTag)) {
    html += "<h2>" + esc(tag) + "</h2>";
    for (const [method, path, op] of ops) {
      html += '<details><summary><span class="m ' + method + '">' + method.toUpperCase() + "</span><code>" +
        esc(path) + "</code> " + esc(op.summary || "") + '</summary><div class="body">';
      if (op.description) html += "<p>" + esc(op.description) + "</p>";
      if (op.parameters) html += "<h4>Parameters</h4>" + show(op.parameters.map(p =>
        ({name: p.name, in: p.in, required: !!p.required, schema: p.schema, description: p.description})));
      const body = op.requestBody && op.requestBody.content;
      if (body) for (const [type, media] of Object.entries(body)) {
        html += "<h4>Body (" + esc(type) + ")</h4>" + show(media.schema || {});
        if (media.example !== undefined) html += "<h4>Example</h4>" + show(media.example);
        for (const [name, ex] of Object.entries(media.examples || {}))
          html += "<h4>Example: " + esc(ex.summary || name) + "</h4>" + show(ex.value);
      }
      html += "<h4>Answers</h4><ul>";
      for (const [code, answer] of Object.entries(op.responses || {}))
        html += "<li><b>" + esc(code) + "</b> " + esc(answer.description || "") + " " +
          esc(Object.keys(answer.content || {}).join(", ")) + "</li>";
      html += "</ul></div></details>";
    }
  }
  html += "<h2>Schemas</h2>" + show((spec.components || {}).schemas || {});
  document.getElementById("ops").innerHTML = html;
}).catch(e => { document.getElementById("info").textContent = "Could not load the schema: " + e; });
</script></body></html>
"""
