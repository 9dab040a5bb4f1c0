"""Signed JSON events POSTed to the URLs an admin registers (docs/webhooks.md).

- `endpoints`: registration (URL checks, a secret shown once, the role the subscriber acts as), removal;
- `events`: `appointment.checked` and `lookup.completed` written to the outbox, one delivery per endpoint,
  each body limited to what the endpoint's role may see;
- `outbox`: the deliveries in the database (due, taken, attempted) and the delivery log;
- `deliverer`: the background sender (httpx), with exponential backoff;
- `signing`: HMAC-SHA256 over `f"{timestamp}.{body}"`, the headers, and the receiver's check.
"""
