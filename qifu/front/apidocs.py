"""/api/v1/docs from the vendored Swagger UI (static/vendor/swagger-ui): no CDN, no inline script.
The page carries its settings as JSON (`json_script`), which static/front/api-docs.js hands to Swagger UI."""

from django.shortcuts import render
from ninja.openapi.docs import Swagger


class ApiDocs(Swagger):
    template = "front/api_docs.html"

    def render_page(self, request, api, **kwargs):
        settings = dict(self.settings, url=self.get_openapi_url(api, kwargs))
        return render(request, self.template, {"swagger_settings": settings, "api": api})
