"""localstripe, a Stripe-compatible server, run in-process for tests; plus a webhook receiver.

localstripe's aiohttp application and its data store are module-level singletons, and an
aiohttp application can only ever be served from the first event loop that served it. So the
server runs on one background event loop per process (shared by sync and async tests alike),
and only one `LocalStripe` may be running at a time: fixtures should use `LocalStripe.shared()`.

Its quirks (see ../../../shared/PEERS.md): PaymentIntent creation refuses unknown parameters
(`description`, `receipt_email`, `automatic_payment_methods` are 400); `confirm` with a
`payment_method` answers 500, so `confirm_with_card` attaches the card first, as Stripe.js
does; Idempotency-Key is ignored; over-refunds are accepted; no refund or `charge.*` webhooks
are sent. Webhooks go to every endpoint registered when they are delivered, about 1 s after the
change, so a test may see a late delivery from an earlier test: match on the intent id.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import queue
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from typing import Any, ClassVar

import httpx
import localstripe.resources
import localstripe.webhooks
from aiohttp import web
from localstripe.server import app as localstripe_app

from peers.http_server import QuietHandler

SECRET_KEY = "sk_test_elysium_localstripe"
STRIPE_WEBHOOK_SECRET = "whsec_elysium_localstripe"


def stripe_signature(payload: bytes, secret: str = STRIPE_WEBHOOK_SECRET, age: int = 0) -> str:
    """The `Stripe-Signature` header for `payload`, made the way Stripe (and localstripe) do."""
    timestamp = int(time.time()) - age
    digest = hmac.new(secret.encode(), b"%d.%s" % (timestamp, payload), hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def signed_event(
    event: dict[str, Any], secret: str = STRIPE_WEBHOOK_SECRET, age: int = 0
) -> tuple[bytes, str]:
    """An event's JSON body and its `Stripe-Signature` header."""
    payload = json.dumps(event).encode()
    return payload, stripe_signature(payload, secret, age)


def _no_persistence(store: Any) -> None:
    """localstripe pickles its whole store to one shared file on every write; tests need neither."""


localstripe.resources.Store.dump_to_disk = _no_persistence
localstripe.resources.Store.try_load_from_disk = _no_persistence

_UNSET = object()
_update_subscription = localstripe.resources.Subscription._update


def _update_with_pause(self: Any, pause_collection: Any = _UNSET, **data: Any) -> None:
    """localstripe knows no `pause_collection`: keep it as Stripe does (set, or cleared by
    an empty value) so the real pause and resume requests work unchanged."""
    if data:
        _update_subscription(self, **data)
    if pause_collection is not _UNSET:
        self.pause_collection = pause_collection or None


localstripe.resources.Subscription._update = _update_with_pause

_loop_lock = threading.RLock()
_server_loop: asyncio.AbstractEventLoop | None = None


def _loop() -> asyncio.AbstractEventLoop:
    """The process-wide event loop, in a daemon thread, that serves localstripe."""
    global _server_loop
    with _loop_lock:
        if _server_loop is None:
            _server_loop = asyncio.new_event_loop()
            thread = threading.Thread(
                target=_server_loop.run_forever, name="localstripe", daemon=True
            )
            thread.start()
        return _server_loop


def _on_server_loop(coro: Any, timeout: float = 10.0) -> Any:
    return asyncio.run_coroutine_threadsafe(coro, _loop()).result(timeout)


async def _serve() -> web.AppRunner:
    runner = web.AppRunner(localstripe_app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner


async def _forget_webhooks() -> None:
    # Rebind rather than clear: a delivery in flight keeps iterating the old dict safely.
    localstripe.webhooks._webhooks = {}


class LocalStripe:
    """A localstripe server on 127.0.0.1 with a free port; use as a context manager."""

    _running: ClassVar[LocalStripe | None] = None
    _shared: ClassVar[LocalStripe | None] = None

    def __init__(self, secret_key: str = SECRET_KEY) -> None:
        self.secret_key = secret_key
        self._runner: web.AppRunner | None = None
        self._http: httpx.Client | None = None

    @classmethod
    def shared(cls) -> LocalStripe:
        """The process-wide running instance, started on first use (reset it per test)."""
        with _loop_lock:
            if cls._shared is None:
                cls._shared = cls().start()
            return cls._shared

    @property
    def api_base(self) -> str:
        """Where to point stripe-python: `StripeClient(key, base_addresses={"api": ...})`."""
        if self._runner is None:
            raise RuntimeError("localstripe is not running")
        host, port = self._runner.addresses[0][:2]
        return f"http://{host}:{port}"

    def start(self) -> LocalStripe:
        """Serve localstripe; raises if another instance already is (they would share data)."""
        with _loop_lock:
            if LocalStripe._running is not None:
                raise RuntimeError("localstripe is already running; use LocalStripe.shared()")
            LocalStripe._running = self
        try:
            self._runner = _on_server_loop(_serve())
        except BaseException:
            LocalStripe._running = None
            raise
        auth = {"Authorization": f"Bearer {self.secret_key}"}
        self._http = httpx.Client(base_url=self.api_base, headers=auth, trust_env=False)
        return self

    def stop(self) -> None:
        """Stop serving; the data stays in memory until `reset()`."""
        if self._runner is not None:
            _on_server_loop(self._runner.cleanup())
            self._runner = None
        if self._http is not None:
            self._http.close()
            self._http = None
        with _loop_lock:
            if LocalStripe._running is self:
                LocalStripe._running = None
            if LocalStripe._shared is self:
                LocalStripe._shared = None

    def __enter__(self) -> LocalStripe:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def reset(self) -> None:
        """Forget every object (`DELETE /_config/data`) and every registered webhook."""
        self._client().delete("/_config/data").raise_for_status()
        _on_server_loop(_forget_webhooks())

    def register_webhook(self, url: str, secret: str, events: Iterable[str] | None = None) -> str:
        """Send signed events to `url` (all events unless `events` is given); returns its id."""
        webhook_id = f"wh_{uuid.uuid4().hex[:12]}"
        form: dict[str, Any] = {"url": url, "secret": secret}
        if events is not None:
            form["events[]"] = list(events)
        self._client().post(f"/_config/webhooks/{webhook_id}", data=form).raise_for_status()
        return webhook_id

    def confirm_with_card(self, intent_id: str, pm: str = "pm_card_visa") -> dict[str, Any]:
        """What Stripe.js does in the browser: attach a card, confirm; returns the intent.

        A declined card (e.g. `pm_card_chargeCustomerFail`) answers 402 to the confirmation,
        as Stripe does; the intent is then returned in its failed state.
        """
        client = self._client()
        path = f"/v1/payment_intents/{intent_id}"
        client.post(path, data={"payment_method": pm}).raise_for_status()
        confirmed = client.post(f"{path}/confirm")
        if confirmed.status_code == 402:
            return self.retrieve_intent(intent_id)
        confirmed.raise_for_status()
        return dict(confirmed.json())

    def new_card(self, number: str = "4242424242424242") -> str:
        """A fresh card PaymentMethod (as Stripe.js creates); its id."""
        form = {
            "type": "card",
            "card[number]": number,
            "card[exp_month]": "12",
            "card[exp_year]": "2034",
            "card[cvc]": "123",
        }
        return str(self._post("/v1/payment_methods", form)["id"])

    def confirm_card_setup(self, setup_intent_id: str, customer_id: str, card: str) -> None:
        """What Stripe.js does with a SetupIntent, plus what localstripe leaves out and Stripe
        does on success: the card is attached to the SetupIntent's customer."""
        self._post(f"/v1/setup_intents/{setup_intent_id}/confirm", {"payment_method": card})
        self._post(f"/v1/payment_methods/{card}/attach", {"customer": customer_id})

    def set_default_card(self, customer_id: str, card: str) -> None:
        """The customer's card for invoices (as a dashboard change would make it)."""
        form = {"invoice_settings[default_payment_method]": card}
        self._post(f"/v1/customers/{customer_id}", form)

    def bill_next_period(self, subscription_id: str, customer_id: str) -> dict[str, Any]:
        """What Stripe's billing cycle does at a renewal: invoice the subscription and charge
        the customer's default card; returns the invoice (paid, or open when declined)."""
        invoice = self._post(
            "/v1/invoices", {"customer": customer_id, "subscription": subscription_id}
        )
        return self.pay_invoice(str(invoice["id"]))

    def fail_authentication(self, invoice_id: str) -> dict[str, Any]:
        """The bank asked to authenticate an off-session invoice payment and the client did
        not: the payment fails (`invoice.payment_failed`, subscription `past_due`)."""
        intent = self.get(f"/v1/invoices/{invoice_id}")["payment_intent"]
        secret = self.retrieve_intent(intent)["client_secret"]
        form = {"client_secret": secret, "success": "false"}
        self._post(f"/v1/payment_intents/{intent}/_authenticate", form)
        return self.get(f"/v1/invoices/{invoice_id}")

    def pay_invoice(self, invoice_id: str) -> dict[str, Any]:
        """Charge an open invoice again (Stripe's automatic retry)."""
        self._post(f"/v1/invoices/{invoice_id}/pay", {})
        return self.get(f"/v1/invoices/{invoice_id}")

    def get(self, path: str) -> dict[str, Any]:
        response = self._client().get(path)
        response.raise_for_status()
        return dict(response.json())

    def _post(self, path: str, form: dict[str, str]) -> dict[str, Any]:
        response = self._client().post(path, data=form)
        response.raise_for_status()
        return dict(response.json())

    def retrieve_intent(self, intent_id: str) -> dict[str, Any]:
        """The PaymentIntent as localstripe has it."""
        response = self._client().get(f"/v1/payment_intents/{intent_id}")
        response.raise_for_status()
        return dict(response.json())

    def _client(self) -> httpx.Client:
        if self._http is None:
            raise RuntimeError("localstripe is not running")
        return self._http


@dataclass(frozen=True)
class Delivery:
    """One webhook request as received."""

    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict[str, Any]:
        return dict(json.loads(self.body))


class WebhookReceiver:
    """A tiny HTTP server on 127.0.0.1 that answers 200 to every POST and keeps the requests."""

    def __init__(self) -> None:
        self._deliveries: queue.Queue[Delivery] = queue.Queue()
        self._seen: list[Delivery] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/webhooks/stripe"

    def start(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def wait_for(self, predicate: Callable[[Delivery], bool], within: float = 5.0) -> Delivery:
        """The first delivery, past or future, matching `predicate`; else TimeoutError."""
        for delivery in self._seen:
            if predicate(delivery):
                return delivery
        deadline = time.monotonic() + within
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                delivery = self._deliveries.get(timeout=remaining)
            except queue.Empty:
                break
            self._seen.append(delivery)
            if predicate(delivery):
                return delivery
        raise TimeoutError(f"no matching webhook within {within} s")

    async def await_for(
        self, predicate: Callable[[Delivery], bool], within: float = 5.0
    ) -> Delivery:
        """`wait_for` without blocking the caller's event loop."""
        return await asyncio.to_thread(self.wait_for, predicate, within)

    def _handler_class(self) -> type[QuietHandler]:
        deliveries = self._deliveries

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                headers = {k.lower(): v for k, v in self.headers.items()}
                deliveries.put(Delivery(path=self.path, headers=headers, body=body))
                self.reply(200, headers={})

        return Handler
