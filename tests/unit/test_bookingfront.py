"""What the booking front passes on to the endpoint: the request exactly as it came, body
included, however it arrived (``pms.api.bookingfront``)."""

from __future__ import annotations

from typing import Any

from starlette.types import Message, Receive, Scope, Send

from pms.api.bookingfront import BookingFrontMiddleware


def _scope(method: str = "POST", path: str = "/api/v1/bookings", **headers: str) -> Scope:
    return {
        "type": "http",
        "method": method,
        "path": path,
        "query_string": b"",
        "headers": [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()],
    }


class Endpoint:
    """Stands for the application behind the front: keeps the body it receives."""

    def __init__(self) -> None:
        self.called = False
        self.messages: list[Message] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.called = True
        while True:
            message = await receive()
            self.messages.append(message)
            if not message.get("more_body", False):
                break

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.messages)


def _client(*messages: Message) -> Receive:
    queue = list(messages)

    async def receive() -> Message:
        return queue.pop(0)

    return receive


async def _send(_: Message) -> None:
    raise AssertionError("the front must not answer these")


def _chunks(*parts: bytes) -> list[Message]:
    return [
        {"type": "http.request", "body": p, "more_body": i < len(parts) - 1}
        for i, p in enumerate(parts)
    ]


async def test_a_body_in_several_chunks_reaches_the_endpoint_whole() -> None:
    endpoint = Endpoint()
    parts = (b'{"property_id": ', b'"x", "check_in": ', b'"2030-01-01"}')
    await BookingFrontMiddleware(endpoint)(
        _scope(content_type="application/json"), _client(*_chunks(*parts)), _send
    )
    assert endpoint.body == b"".join(parts)
    assert endpoint.messages[-1]["more_body"] is False


async def test_a_body_too_large_for_the_front_is_passed_on_as_it_streams_in() -> None:
    endpoint = Endpoint()
    parts = (b"a" * 40_000, b"b" * 40_000, b"c" * 40_000)  # no content-length: streamed
    await BookingFrontMiddleware(endpoint)(
        _scope(content_type="application/json"), _client(*_chunks(*parts)), _send
    )
    assert endpoint.body == b"".join(parts)


async def test_what_the_front_does_not_take_is_not_read_at_all() -> None:
    for scope in (
        _scope("GET"),
        _scope(path="/api/v1/blocks", content_type="application/json"),
        _scope(content_type="application/x-www-form-urlencoded"),
        _scope(),  # no content type: not JSON to the endpoint
        _scope(content_type="application/json", content_length="70000"),
    ):
        endpoint = Endpoint()
        body = b'{"a": 1}'
        await BookingFrontMiddleware(endpoint)(scope, _client(*_chunks(body)), _send)
        assert endpoint.messages == _chunks(body), scope


async def test_a_client_that_goes_away_while_sending_is_not_passed_on() -> None:
    endpoint = Endpoint()
    messages: list[Any] = [
        {"type": "http.request", "body": b"{", "more_body": True},
        {"type": "http.disconnect"},
    ]
    await BookingFrontMiddleware(endpoint)(
        _scope(content_type="application/json"), _client(*messages), _send
    )
    assert not endpoint.called
