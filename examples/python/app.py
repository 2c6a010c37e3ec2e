#!/usr/bin/env python3
"""A small shop instrumented with the Sentry and OpenTelemetry Python SDKs, sending to tracepin.

Run it against a tracepin (the DSN and OTLP endpoint are printed when tracepin starts):

    python app.py --style otel-integration --dsn http://public@127.0.0.1:3000/1
    python app.py --style manual --dsn ... --otlp http://127.0.0.1:3000/v1/traces
    python app.py --style tag    --dsn ... --otlp http://127.0.0.1:3000/v1/traces

Each run checks out one order whose card charge fails: a SERVER span `POST /checkout` with two CLIENT
children, `reserve stock` and `charge card`; the charge raises `CardDeclined`, caught inside its span,
which is marked as an error and reported to Sentry. The three styles link the Sentry error to the span
the three ways teams do it:

- otel-integration: Sentry's OpenTelemetry integration (`OTLPIntegration`) exports the spans to the
  OTLP endpoint derived from the DSN and gives errors the ids of the active OpenTelemetry span;
- manual: no integration; the app copies the OpenTelemetry ids into a `otel_trace` context and
  `otel.trace_id` tag, and writes the event id on the span (`sentry.event_id`);
- tag: no shared ids at all; a `transaction_id` travels as a span attribute and a Sentry tag.

For every error it prints one JSON line: the style, the event id, and the trace and span it belongs to.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import uuid


class CardDeclined(Exception):
    pass


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--style", choices=["otel-integration", "manual", "tag"], required=True)
    p.add_argument("--dsn", default=os.environ.get("SENTRY_DSN", "http://public@127.0.0.1:3000/1"))
    p.add_argument("--otlp", default=os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                                                    "http://127.0.0.1:3000/v1/traces"))
    args = p.parse_args()

    for k in list(os.environ):
        if k.startswith(("OTEL_", "SENTRY_")):
            del os.environ[k]

    import sentry_sdk
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.trace import SpanKind, Status, StatusCode, format_span_id, format_trace_id

    service = f"shop-{args.style}"
    provider = TracerProvider(resource=Resource.create({"service.name": service, "service.version": "1.0.0"}))
    trace.set_tracer_provider(provider)
    options = dict(dsn=args.dsn, release=f"{service}@1.0.0", environment="example", server_name=f"{service}-host")
    if args.style == "otel-integration":
        from sentry_sdk.integrations.otlp import OTLPIntegration

        # Exports the global provider's spans to the DSN's OTLP endpoint (/api/<project>/integration/otlp/v1/traces).
        options["integrations"] = [OTLPIntegration()]
    else:
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=args.otlp)))
    sentry_sdk.init(**options)
    tracer = trace.get_tracer("shop.checkout", "1.0.0")

    results = []
    order = f"ord-{uuid.uuid4().hex[:8]}"
    txn = f"txn-{uuid.uuid4().hex}"
    with tracer.start_as_current_span("POST /checkout", kind=SpanKind.SERVER,
                                      attributes={"http.request.method": "POST", "http.route": "/checkout"}) as root:
        if args.style == "tag":
            root.set_attribute("transaction_id", txn)
            sentry_sdk.set_tag("transaction_id", txn)
        with tracer.start_as_current_span("reserve stock", kind=SpanKind.CLIENT, attributes={"order.id": order}):
            pass
        with tracer.start_as_current_span("charge card", kind=SpanKind.CLIENT, attributes={"order.id": order}) as span:
            if args.style == "tag":
                span.set_attribute("transaction_id", txn)
            try:
                raise CardDeclined(f"card declined: insufficient_funds (order {order})")
            except CardDeclined as e:
                span.set_status(Status(StatusCode.ERROR, str(e)))
                sc = span.get_span_context()
                tid, sid = format_trace_id(sc.trace_id), format_span_id(sc.span_id)
                if args.style == "manual":
                    with sentry_sdk.new_scope() as scope:
                        scope.set_context("otel_trace", {"trace_id": tid, "span_id": sid, "service_name": service})
                        scope.set_tag("otel.trace_id", tid)
                        scope.set_tag("otel.span_id", sid)
                        eid = sentry_sdk.capture_exception(e)
                    span.set_attribute("sentry.event_id", eid)
                else:
                    eid = sentry_sdk.capture_exception(e)
                results.append({"style": args.style, "event_id": eid, "trace_id": tid, "span_id": sid,
                                "span_name": "charge card", "service": service})
            root.set_status(Status(StatusCode.ERROR, "payment failed"))
    sentry_sdk.flush(timeout=10)
    provider.force_flush(10_000)
    provider.shutdown()
    for r in results:
        print(json.dumps(r))
    return 0 if all(r["event_id"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
