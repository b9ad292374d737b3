"""Wiring the operations features into a built app: what `launch()` gets, and what runs after it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from playground.config.catalog import Catalog
from playground.engines.generation_engines import Engines
from playground.operations.auth import INTERNAL_HEADER, CredentialsGate, SignIn, Users, scope_user
from playground.operations.hf_sign_in import HuggingFaceAccess


@dataclass
class Operations:
    """What `prepare` decided: `launch_kwargs` for `demo.launch`, and `after_launch` to call once it runs."""

    sign_in: SignIn | None
    launch_kwargs: dict[str, Any] = field(default_factory=dict)

    def after_launch(self, demo: Any) -> None:
        """With sign-in on, Gradio's MCP server calls the app's own queue through a gradio_client of its
        own, which has no credentials: it gets one carrying this process's secret (MCP callers
        themselves are checked when they reach /gradio_api/mcp). Where that cannot be done, MCP stays
        refused."""
        from playground.web.gradio_patches import set_mcp_client_headers

        if self.sign_in is not None:
            self.sign_in.mcp_ready = set_mcp_client_headers(demo, {INTERNAL_HEADER: self.sign_in.internal_secret})


def prepare(
    demo: Any,
    catalog: Catalog,
    manager: Any,
    engines: Engines,
    tab_keys: Sequence[str],
    users: Users | None,
    metrics: bool,
    huggingface: HuggingFaceAccess | None = None,
) -> Operations:
    """Sign-in, fair share, health routes, metrics (when asked for) and idle unload for a built
    (not yet launched) app whose tabs run models through `manager` and `engines`. Sign-in is on with
    `users` (a users file), `huggingface` (the Hugging Face allow-list; the app then carries a
    gr.LoginButton, see `hugging_face_account`), or both."""
    from starlette.middleware import Middleware

    from playground.operations.fair_share import share_fairly
    from playground.operations.health import health_routes
    from playground.operations.idle_unload import start_idle_unload
    from playground.operations.url_downloads import limit_url_downloads
    from playground.web.gradio_patches import queue_length, wrap_endpoints

    sign_in = SignIn(users, huggingface) if users is not None or huggingface is not None else None

    def may_see_details(request: Any) -> bool:
        # CredentialsGate has already turned valid Basic credentials into a session.
        return sign_in is None or scope_user(request.app, request.scope) is not None

    routes = health_routes(catalog, manager, tab_keys, may_see_details)
    if metrics:
        from playground.operations.metrics import Metrics, metrics_route

        collected = Metrics()
        wrap_endpoints(demo, collected.observe_endpoint)
        collected.observe_generations(engines)
        collected.observe_state(lambda: queue_length(demo), manager, engines)
        routes.append(metrics_route(collected))
    share_fairly(demo, lambda: catalog.defaults.max_requests_per_user)
    limit_url_downloads(int(catalog.defaults.max_upload_mb * 2**20))
    start_idle_unload(manager, engines)
    app_kwargs: dict[str, Any] = {"routes": routes}
    launch_kwargs: dict[str, Any] = {"app_kwargs": app_kwargs}
    if sign_in is not None:
        app_kwargs["middleware"] = [Middleware(CredentialsGate, sign_in=sign_in)]
    if users is not None:
        launch_kwargs["auth"] = sign_in.check
    return Operations(sign_in, launch_kwargs)
