"""The read-only dashboard at ``/ui``: server-rendered pages of what the store holds; docs/observability.md.

``routes.py`` is the router (mounted at ``/ui``, left out of the OpenAPI document), ``session.py`` the
login and logout (the API key kept in an ``HttpOnly`` cookie), ``views.py`` what each page reads from the
store (in a thread, as the JSON routes do), ``payload.py`` how a raw payload is shown, ``charts.py`` the
server-side SVG charts, ``rendering.py`` the Jinja2 environment and the headers every answer carries.
No JavaScript and nothing from a CDN: every page works offline, and nothing on any page writes anything.
"""
