"""The card's priorities (higher = more important) as the Redis transport's (lower is read first)."""

from __future__ import annotations

from email_service.tasks.celery_app import QUEUE_PRIORITY, ROUTES, broker_priority, celery_app


def test_card_priorities_map_to_redis_order() -> None:
    assert QUEUE_PRIORITY == {"sync": 10, "send": 8, "delete": 5, "spam": 3, "periodic": 10, "webhooks": 6}
    assert [broker_priority(QUEUE_PRIORITY[q]) for q in ("sync", "periodic", "send", "delete", "spam")] == [
        0,
        0,
        2,
        5,
        7,
    ]


def test_every_route_carries_its_queue_priority() -> None:
    for name, route in ROUTES.items():
        assert route["priority"] == broker_priority(QUEUE_PRIORITY[route["queue"]]), name
    celery_app.loader.import_default_modules()
    routed = celery_app.amqp.router.route({}, "email_service.tasks.check_spam")
    assert routed["priority"] == 7


def test_transport_reads_priority_steps_in_queue_order() -> None:
    options = celery_app.conf.broker_transport_options
    assert options["priority_steps"] == list(range(10))
    assert options["queue_order_strategy"] == "priority"
