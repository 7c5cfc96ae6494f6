"""The transactional outbox: side effects (mail, bus re-planning) as rows written in the
same transaction as the change, delivered afterwards by a worker (app.outbox.worker)."""
