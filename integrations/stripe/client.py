"""The thin client for a firm's own Stripe account.

Every call to Stripe goes through `stripe_client(account)`: the library's
`StripeClient` with the firm's secret key, `client.v1.*` only (the unprefixed
services are deprecated in stripe 16), a timeout on every request
(settings.STRIPE_TIMEOUT_SECONDS) and the library's own retries on connection
errors and 5xx (settings.STRIPE_MAX_NETWORK_RETRIES; 0 in tests). The API base
is Stripe's unless settings.STRIPE_API_BASE names another (the tests' local
stand-in).

Idempotency keys are ours, never the library's random ones, and name the
business action: a double click, a retried job or a retry by the library sends
the same key with the same parameters, and Stripe answers the first result
again instead of opening a second Checkout session or refunding twice.

- "<invoice uuid>:checkout:<attempt>": the invoice's Checkout session number
  `attempt` (integrations.stripe.models.CheckoutSession);
- "<checkout uuid>:expire": expiring that session;
- "<payment uuid>:refund:<n>": the payment's refund number `n`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import stripe
from django.conf import settings

if TYPE_CHECKING:
    from billing.models import Invoice, Payment
    from integrations.stripe.models import CheckoutSession, StripeAccount

# Raised by the library for anything Stripe refused or we could not reach:
# views and jobs catch this one type and say what went wrong.
StripeError = stripe.StripeError


def stripe_client_for_key(secret_key: str) -> stripe.StripeClient:
    base = settings.STRIPE_API_BASE
    return stripe.StripeClient(
        secret_key,
        base_addresses={"api": base} if base else None,
        max_network_retries=settings.STRIPE_MAX_NETWORK_RETRIES,
        http_client=stripe.RequestsClient(timeout=settings.STRIPE_TIMEOUT_SECONDS),
    )


def stripe_client(account: StripeAccount) -> stripe.StripeClient:
    """A client for the firm's own Stripe account."""
    return stripe_client_for_key(account.secret_key)


def checkout_idempotency_key(invoice: Invoice, attempt: int) -> str:
    return f"{invoice.uuid}:checkout:{attempt}"


def expire_idempotency_key(session: CheckoutSession) -> str:
    return f"{session.uuid}:expire"


def refund_idempotency_key(payment: Payment, number: int) -> str:
    return f"{payment.uuid}:refund:{number}"


def key_hint(secret_key: str) -> str:
    """What the page shows of a key: its kind and last four ("sk_live_…4242")."""
    prefix = secret_key.rsplit("_", 1)[0] + "_" if "_" in secret_key else ""
    return f"{prefix}…{secret_key[-4:]}"


def is_live_key(secret_key: str) -> bool:
    return "_live_" in secret_key


def error_message(exc: stripe.StripeError) -> str:
    """One sentence for a person about what Stripe answered (or did not)."""
    if isinstance(exc, stripe.AuthenticationError):
        return "Stripe did not accept this secret key."
    if isinstance(exc, stripe.PermissionError):
        return "This key is not allowed to do that in Stripe (a restricted key?)."
    if isinstance(exc, stripe.APIConnectionError):
        return "Stripe could not be reached. Try again in a moment."
    if isinstance(exc, stripe.RateLimitError):
        return "Stripe asked us to slow down. Try again in a moment."
    message = exc.user_message or str(exc)
    return f"Stripe refused: {message}"


# Stripe counts money in the currency's smallest unit: cents, except for the
# currencies that have none (https://docs.stripe.com/currencies#zero-decimal).
ZERO_DECIMAL_CURRENCIES = frozenset(
    [
        "BIF",
        "CLP",
        "DJF",
        "GNF",
        "JPY",
        "KMF",
        "KRW",
        "MGA",
        "PYG",
        "RWF",
        "UGX",
        "VND",
        "VUV",
        "XAF",
        "XOF",
        "XPF",
    ]
)


def to_minor(amount: Decimal, currency: str) -> int:
    """`amount` (Decimal, two places) in Stripe's units of `currency`."""
    if currency.upper() in ZERO_DECIMAL_CURRENCIES:
        return int(amount.to_integral_value())
    return int((amount * 100).to_integral_value())


def from_minor(value: int, currency: str) -> Decimal:
    """Stripe's integer amount back into Decimal money."""
    if currency.upper() in ZERO_DECIMAL_CURRENCIES:
        return Decimal(value).quantize(Decimal("0.01"))
    return (Decimal(value) / 100).quantize(Decimal("0.01"))


def checkout_origin() -> str:
    """Where Checkout's pages live: the page with the Pay button lets its form
    lead there (Content-Security-Policy form-action covers the redirect)."""
    base = settings.STRIPE_API_BASE
    if base:
        parts = urlsplit(base)
        return f"{parts.scheme}://{parts.netloc}"
    return "https://checkout.stripe.com"
