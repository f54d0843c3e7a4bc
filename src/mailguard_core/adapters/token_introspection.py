"""RFC 7662 token introspection with authlib's OAuth 2.0 client (``serve --http`` with
``[server.auth] introspection_url``, for opaque access tokens)."""

from __future__ import annotations

from typing import Any

#: the largest introspection answer read
MAX_ANSWER_BYTES = 100_000


class IntrospectionRefused(Exception):
    """The endpoint said the token is not active (authlib's ``InvalidTokenError``)."""


def introspect(
    url: str,
    token: str,
    *,
    client_id: str | None,
    client_secret: str | None,
    timeout: float,
) -> dict[str, Any]:
    """The introspection answer for ``token``: POSTed to ``url`` by authlib's
    ``OAuth2Session.introspect_token`` (``client_secret_basic``; no secret: a public client,
    ``none``), checked by authlib's ``IntrospectTokenValidator`` (``"active": true``).

    Raises:
        IntrospectionRefused: the answer says the token is not active.
        Exception: anything else (unreachable, a timeout, a status other than 200, an answer
            that is not a JSON object or is too large): the caller refuses the token.
    """
    from authlib.integrations.requests_client import OAuth2Session
    from authlib.oauth2.rfc6750 import InvalidTokenError
    from authlib.oauth2.rfc7662 import IntrospectionToken, IntrospectTokenValidator

    class Validator(IntrospectTokenValidator):  # type: ignore[misc]
        def __init__(self, session: Any) -> None:
            super().__init__()
            self.session = session

        def introspect_token(self, token_string: str) -> IntrospectionToken:
            response = self.session.introspect_token(
                url,
                token=token_string,
                token_type_hint="access_token",
                timeout=timeout,
                allow_redirects=False,
            )
            if response.status_code != 200:
                raise ValueError(f"introspection endpoint answered {response.status_code}")
            if len(response.content) > MAX_ANSWER_BYTES:
                raise ValueError("introspection answer too large")
            data = response.json()
            if not isinstance(data, dict):
                raise ValueError("introspection answer is not an object")
            return IntrospectionToken(data)

    with OAuth2Session(
        client_id=client_id,
        client_secret=client_secret,
        token_endpoint_auth_method="client_secret_basic" if client_secret else "none",
    ) as session:
        validator = Validator(session)
        answer = validator.authenticate_token(token)
        try:
            if answer.get("active") is not True:
                raise InvalidTokenError()
            validator.validate_token(answer, [], None)
        except InvalidTokenError as exc:
            raise IntrospectionRefused("token not active") from exc
        return dict(answer)
